package charts_test

import (
	"encoding/json"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	monitoringv1alpha1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1alpha1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"sigs.k8s.io/yaml"
)

// operatorDir holds the prometheus-operator / kube-prometheus-stack example.
const operatorDir = "../examples/deploy/prometheus-operator"

// strictFile decodes a manifest or values file strictly into obj.
func strictFile(t *testing.T, file string, obj any) {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(operatorDir, file))
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.UnmarshalStrict(raw, obj); err != nil {
		t.Fatalf("%s: %v", file, err)
	}
}

// TestPrometheusOperatorExample: the AlertmanagerConfig, the Alertmanager
// and the kube-prometheus-stack values decode strictly into the operator's
// types; the chart, installed with the example's values in the
// AlertmanagerConfig's namespace, has the Service its webhook URL names
// and mounts the Secret key its bearer token comes from; the Alertmanager
// and kube-prometheus-stack select the AlertmanagerConfig; Prometheus
// finds the ServiceMonitor and the rules.
func TestPrometheusOperatorExample(t *testing.T) {
	var amc monitoringv1alpha1.AlertmanagerConfig
	strictFile(t, "alertmanagerconfig.yaml", &amc)
	if amc.Kind != monitoringv1alpha1.AlertmanagerConfigKind || amc.Namespace == "" {
		t.Fatalf("alertmanagerconfig.yaml: kind %q, namespace %q", amc.Kind, amc.Namespace)
	}
	if amc.Spec.Route == nil || len(amc.Spec.Receivers) != 1 || amc.Spec.Route.Receiver != amc.Spec.Receivers[0].Name {
		t.Fatalf("the route does not lead to the one receiver")
	}
	hooks := amc.Spec.Receivers[0].WebhookConfigs
	if len(hooks) != 1 || hooks[0].URL == nil || hooks[0].HTTPConfig == nil {
		t.Fatalf("receiver: want one webhook with a URL and an HTTP config")
	}
	hook := hooks[0]
	if err := hook.HTTPConfig.Validate(); err != nil {
		t.Errorf("httpConfig: %v", err)
	}
	if hook.SendResolved == nil || !*hook.SendResolved || hook.MaxAlerts != 0 {
		t.Errorf("webhook: sendResolved %v, maxAlerts %d; the bridge wants resolved alerts and every alert", hook.SendResolved, hook.MaxAlerts)
	}
	auth := hook.HTTPConfig.Authorization
	if auth == nil || auth.Credentials == nil || !strings.EqualFold(auth.Type, "Bearer") {
		t.Fatalf("webhook: no bearer token from a Secret")
	}
	u, err := url.Parse(string(*hook.URL))
	if err != nil {
		t.Fatal(err)
	}
	host, port, _ := net.SplitHostPort(u.Host)
	svcName, svcNS, _ := strings.Cut(strings.TrimSuffix(host, ".svc"), ".")
	if u.Scheme != "http" || u.Path != "/webhook" || svcNS != amc.Namespace {
		t.Errorf("webhook URL %s: want http://<service>.%s.svc:<port>/webhook", u, amc.Namespace)
	}

	// The chart, as the example installs it.
	var raw map[string]any
	strictFile(t, "alertbridge-values.yaml", &raw)
	out, err := renderAs(t, loadChart(t), raw, "alertbridge", amc.Namespace)
	if err != nil {
		t.Fatalf("render: %v", err)
	}
	o := decode(t, out)
	checkObjects(t, o, raw)
	var svc *corev1.Service
	for _, s := range o.services {
		if s.Name == svcName {
			svc = s
		}
	}
	if svc == nil || svc.Namespace != amc.Namespace || strconv.Itoa(int(svc.Spec.Ports[0].Port)) != port {
		t.Fatalf("the chart has no Service %s in %s on port %s", svcName, amc.Namespace, port)
	}
	sts := o.statefulSets[0]
	var secretVolume string
	for _, v := range sts.Spec.Template.Spec.Volumes {
		if v.Secret != nil && v.Secret.SecretName == auth.Credentials.Name {
			secretVolume = v.Name
		}
	}
	var tokenFile string
	for _, m := range sts.Spec.Template.Spec.Containers[0].VolumeMounts {
		if m.Name == secretVolume {
			tokenFile = m.MountPath + "/" + auth.Credentials.Key
		}
	}
	if secretVolume == "" || !strings.Contains(o.configMaps[0].Data["alertbridge.yml"], "bearer_token_file: "+tokenFile+"\n") {
		t.Errorf("the bridge does not read its inbound token from the Secret %s, key %s (mounted at %q)", auth.Credentials.Name, auth.Credentials.Key, tokenFile)
	}
	for _, obj := range []metav1.Object{o.serviceMonitors[0], o.prometheusRules[0]} {
		if obj.GetLabels()["release"] != "kube-prometheus-stack" {
			t.Errorf("%s has no release=kube-prometheus-stack label, which kube-prometheus-stack's Prometheus selects", obj.GetName())
		}
	}

	// The Alertmanager resource takes the AlertmanagerConfig as its whole
	// configuration.
	var am monitoringv1.Alertmanager
	strictFile(t, "alertmanager.yaml", &am)
	if am.Namespace != amc.Namespace || am.Spec.AlertmanagerConfiguration == nil || am.Spec.AlertmanagerConfiguration.Name != amc.Name {
		t.Errorf("alertmanager.yaml does not use the AlertmanagerConfig %s/%s", amc.Namespace, amc.Name)
	}

	// kube-prometheus-stack's alertmanagerSpec is the Alertmanager's spec.
	var kps struct {
		Alertmanager struct {
			AlertmanagerSpec json.RawMessage `json:"alertmanagerSpec"`
		} `json:"alertmanager"`
	}
	strictFile(t, "kube-prometheus-stack-values.yaml", &kps)
	var spec monitoringv1.AlertmanagerSpec
	if err := yaml.UnmarshalStrict(kps.Alertmanager.AlertmanagerSpec, &spec); err != nil {
		t.Fatalf("kube-prometheus-stack-values.yaml alertmanager.alertmanagerSpec: %v", err)
	}
	sel, err := metav1.LabelSelectorAsSelector(spec.AlertmanagerConfigSelector)
	if err != nil || spec.AlertmanagerConfigSelector == nil || !sel.Matches(labels.Set(amc.Labels)) {
		t.Errorf("kube-prometheus-stack's Alertmanager does not select the AlertmanagerConfig (%v)", err)
	}
	if spec.AlertmanagerConfigMatcherStrategy.Type != "None" {
		t.Errorf("matcher strategy %q: only alerts of namespace %s would reach the bridge", spec.AlertmanagerConfigMatcherStrategy.Type, amc.Namespace)
	}
}
