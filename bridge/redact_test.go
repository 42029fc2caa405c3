package bridge

import (
	"strings"
	"testing"

	commoncfg "github.com/prometheus/common/config"

	"github.com/alertbridge/alertbridge/bridge/config"
)

// TestTargetRedactorScrubsOAuth2EndpointParams: token endpoint parameters
// can carry credentials and are plain strings in the configuration, so
// they are scrubbed like the client secret.
func TestTargetRedactorScrubsOAuth2EndpointParams(t *testing.T) {
	tgt := &config.Target{Name: "o", URL: "https://hooks.example.com/x"}
	tgt.HTTPConfig.OAuth2 = &commoncfg.OAuth2{
		ClientID:       "client",
		ClientSecret:   "client-secret-value",
		TokenURL:       "https://auth.example.com/token",
		EndpointParams: map[string]string{"assertion": "signed-assertion-value", "audience": "internal-audience-123"},
	}
	r := targetRedactor(tgt)
	text := "endpoint_params: {assertion: signed-assertion-value, audience: internal-audience-123}; secret client-secret-value"
	got := r.Redact(text)
	for _, secret := range []string{"signed-assertion-value", "internal-audience-123", "client-secret-value"} {
		if strings.Contains(got, secret) {
			t.Errorf("%q survived: %s", secret, got)
		}
	}
}
