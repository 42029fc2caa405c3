package queue

import (
	"testing"

	"golang.org/x/time/rate"
)

// TestConfigureLimiterStartsWithAFullBurst: a new lane (unlimited, burst
// 1) given a rate limit with burst 10 may send 10 requests at once.
func TestConfigureLimiterStartsWithAFullBurst(t *testing.T) {
	l := rate.NewLimiter(rate.Inf, 1)
	configureLimiter(l, rate.Limit(20.0/60), 10)
	allowed := 0
	for l.Allow() {
		allowed++
	}
	if allowed != 10 {
		t.Errorf("a fresh lane allowed %d requests at once, want the burst of 10", allowed)
	}
	if l.Limit() != rate.Limit(20.0/60) || l.Burst() != 10 {
		t.Errorf("limiter is %v/%d", l.Limit(), l.Burst())
	}
}
