package alert

import (
	"testing"
	"time"
)

func TestSampleIsAValidNotification(t *testing.T) {
	m := Sample(time.Now())
	if err := m.Validate(); err != nil {
		t.Fatalf("sample does not validate: %v", err)
	}
	if len(m.Alerts.Firing()) != 1 || len(m.Alerts.Resolved()) != 1 {
		t.Errorf("sample should carry one firing and one resolved alert")
	}
}
