// Package charts_test renders the Helm chart in alertbridge/ with Helm's
// own engine, as `helm template` does, and checks what comes out: every
// object decodes strictly into its Kubernetes or prometheus-operator type,
// the objects fit together (selectors, ports, volumes, flags), and the
// rendered alertbridge.yml passes check-config.
package charts_test

import (
	"fmt"
	"maps"
	"os"
	"path"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	yamlv3 "go.yaml.in/yaml/v3"
	"helm.sh/helm/v3/pkg/chart"
	"helm.sh/helm/v3/pkg/chart/loader"
	"helm.sh/helm/v3/pkg/chartutil"
	"helm.sh/helm/v3/pkg/engine"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/labels"
	"sigs.k8s.io/yaml"

	"github.com/alertbridge/alertbridge/bridge"
)

const (
	chartDir  = "alertbridge"
	namespace = "monitoring"
	release   = "ab"
)

// capabilities: the cluster the chart is rendered for, the oldest
// Kubernetes version that Chart.yaml's kubeVersion admits.
var capabilities = func() *chartutil.Capabilities {
	c := chartutil.DefaultCapabilities.Copy()
	c.KubeVersion = chartutil.KubeVersion{Version: "v1.25.0", Major: "1", Minor: "25"}
	return c
}()

// objects is one rendering of the chart, decoded.
type objects struct {
	configMaps      []*corev1.ConfigMap
	secrets         []*corev1.Secret
	services        []*corev1.Service
	statefulSets    []*appsv1.StatefulSet
	pdbs            []*policyv1.PodDisruptionBudget
	networkPolicies []*networkingv1.NetworkPolicy
	serviceMonitors []*monitoringv1.ServiceMonitor
	prometheusRules []*monitoringv1.PrometheusRule
	notes           string
}

func loadChart(t *testing.T) *chart.Chart {
	t.Helper()
	c, err := loader.Load(chartDir)
	if err != nil {
		t.Fatalf("loading the chart: %v", err)
	}
	if err := c.Validate(); err != nil {
		t.Fatalf("Chart.yaml: %v", err)
	}
	if !chartutil.IsCompatibleRange(c.Metadata.KubeVersion, capabilities.KubeVersion.String()) {
		t.Fatalf("kubeVersion %q excludes Kubernetes %s", c.Metadata.KubeVersion, capabilities.KubeVersion)
	}
	return c
}

// valuesFile reads a values file as `helm template -f` does.
func valuesFile(t *testing.T, file string) map[string]any {
	t.Helper()
	raw, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	vals, err := chartutil.ReadValues(raw)
	if err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	return vals
}

// render runs the chart's templates with vals over its defaults.
func render(t *testing.T, c *chart.Chart, vals map[string]any) (map[string]string, error) {
	t.Helper()
	return renderAs(t, c, vals, release, namespace)
}

// renderAs is render for a release of that name in that namespace.
func renderAs(t *testing.T, c *chart.Chart, vals map[string]any, name, ns string) (map[string]string, error) {
	t.Helper()
	top, err := chartutil.ToRenderValues(c, vals, chartutil.ReleaseOptions{
		Name: name, Namespace: ns, IsInstall: true, Revision: 1,
	}, capabilities)
	if err != nil {
		return nil, err
	}
	return engine.Render(c, top)
}

// decode splits the rendered manifests into documents and decodes each
// strictly (an unknown or misspelt field is an error) into its type.
func decode(t *testing.T, files map[string]string) *objects {
	t.Helper()
	o := &objects{}
	for _, name := range slices.Sorted(maps.Keys(files)) {
		text := files[name]
		if strings.HasSuffix(name, "NOTES.txt") {
			o.notes = text
			continue
		}
		for i, doc := range regexp.MustCompile(`(?m)^---\s*$`).Split(text, -1) {
			var head struct {
				APIVersion string `json:"apiVersion"`
				Kind       string `json:"kind"`
			}
			if err := yaml.Unmarshal([]byte(doc), &head); err != nil {
				t.Fatalf("%s, document %d: %v\n%s", name, i, err, doc)
			}
			if head.Kind == "" {
				if strings.TrimSpace(stripComments(doc)) != "" {
					t.Errorf("%s, document %d has no kind:\n%s", name, i, doc)
				}
				continue
			}
			var obj any
			switch head.APIVersion + " " + head.Kind {
			case "v1 ConfigMap":
				obj = &corev1.ConfigMap{}
				o.configMaps = append(o.configMaps, obj.(*corev1.ConfigMap))
			case "v1 Secret":
				obj = &corev1.Secret{}
				o.secrets = append(o.secrets, obj.(*corev1.Secret))
			case "v1 Service":
				obj = &corev1.Service{}
				o.services = append(o.services, obj.(*corev1.Service))
			case "apps/v1 StatefulSet":
				obj = &appsv1.StatefulSet{}
				o.statefulSets = append(o.statefulSets, obj.(*appsv1.StatefulSet))
			case "policy/v1 PodDisruptionBudget":
				obj = &policyv1.PodDisruptionBudget{}
				o.pdbs = append(o.pdbs, obj.(*policyv1.PodDisruptionBudget))
			case "networking.k8s.io/v1 NetworkPolicy":
				obj = &networkingv1.NetworkPolicy{}
				o.networkPolicies = append(o.networkPolicies, obj.(*networkingv1.NetworkPolicy))
			case "monitoring.coreos.com/v1 ServiceMonitor":
				obj = &monitoringv1.ServiceMonitor{}
				o.serviceMonitors = append(o.serviceMonitors, obj.(*monitoringv1.ServiceMonitor))
			case "monitoring.coreos.com/v1 PrometheusRule":
				obj = &monitoringv1.PrometheusRule{}
				o.prometheusRules = append(o.prometheusRules, obj.(*monitoringv1.PrometheusRule))
			default:
				t.Fatalf("%s: unexpected %s %s", name, head.APIVersion, head.Kind)
			}
			if err := yaml.UnmarshalStrict([]byte(doc), obj); err != nil {
				t.Errorf("%s: %s: %v\n%s", name, head.Kind, err, doc)
			}
		}
	}
	return o
}

func stripComments(doc string) string {
	var b strings.Builder
	for _, line := range strings.Split(doc, "\n") {
		if !strings.HasPrefix(strings.TrimSpace(line), "#") {
			b.WriteString(line + "\n")
		}
	}
	return b.String()
}

// TestChartNeedsSecrets: with the defaults alone the chart refuses to
// render and says what to set; a bridge without its URL and token files
// could not start.
func TestChartNeedsSecrets(t *testing.T) {
	_, err := render(t, loadChart(t), nil)
	if err == nil || !strings.Contains(err.Error(), "set secrets.existingSecret") {
		t.Fatalf("render with defaults: %v, want the secrets error", err)
	}
}

// TestChartRefusesUnknownValues: values.schema.json turns a misspelt value,
// which Helm would otherwise ignore, into an error.
func TestChartRefusesUnknownValues(t *testing.T) {
	vals := valuesFile(t, filepath.Join(chartDir, "ci", "default-values.yaml"))
	vals["serviceMonitor"] = map[string]any{"enable": true}
	if _, err := render(t, loadChart(t), vals); err == nil || !strings.Contains(err.Error(), "enable") {
		t.Errorf("serviceMonitor.enable: %v, want a schema error naming it", err)
	}
}

// TestChart renders every values file in alertbridge/ci (as chart-testing
// does), and one without persistence, and checks each result.
func TestChart(t *testing.T) {
	c := loadChart(t)
	files, _ := filepath.Glob(filepath.Join(chartDir, "ci", "*-values.yaml"))
	if len(files) < 2 {
		t.Fatalf("%d values files in %s/ci", len(files), chartDir)
	}
	cases := map[string]map[string]any{}
	for _, f := range files {
		cases[filepath.Base(f)] = valuesFile(t, f)
	}
	noPersistence := valuesFile(t, filepath.Join(chartDir, "ci", "default-values.yaml"))
	noPersistence["persistence"] = map[string]any{"enabled": false}
	noPersistence["podDisruptionBudget"] = map[string]any{"enabled": false}
	cases["no persistence"] = noPersistence

	for name, vals := range cases {
		t.Run(name, func(t *testing.T) {
			out, err := render(t, c, vals)
			if err != nil {
				t.Fatalf("render: %v", err)
			}
			o := decode(t, out)
			checkObjects(t, o, vals)
		})
	}
}

func checkObjects(t *testing.T, o *objects, vals map[string]any) {
	t.Helper()
	if len(o.statefulSets) != 1 || len(o.configMaps) != 1 {
		t.Fatalf("%d StatefulSets, %d ConfigMaps; want 1 of each", len(o.statefulSets), len(o.configMaps))
	}
	sts := o.statefulSets[0]
	pod := sts.Spec.Template
	if sts.Spec.Replicas == nil || *sts.Spec.Replicas != 1 {
		t.Errorf("replicas %v: the store has one writer", sts.Spec.Replicas)
	}
	podLabels := labels.Set(pod.Labels)
	if sel := sts.Spec.Selector.MatchLabels; !labels.SelectorFromSet(sel).Matches(podLabels) {
		t.Errorf("StatefulSet selector %v does not match the pod labels %v", sel, pod.Labels)
	}
	if len(pod.Spec.Containers) != 1 {
		t.Fatalf("%d containers", len(pod.Spec.Containers))
	}
	ctr := pod.Spec.Containers[0]

	// Security: non-root, read-only root filesystem, nothing to escalate.
	psc, sc := pod.Spec.SecurityContext, ctr.SecurityContext
	if psc == nil || psc.RunAsNonRoot == nil || !*psc.RunAsNonRoot || psc.RunAsUser == nil || *psc.RunAsUser == 0 {
		t.Errorf("pod security context %+v: want a non-root user", psc)
	}
	if sc == nil || sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem ||
		sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation ||
		sc.Capabilities == nil || !slices.Equal(sc.Capabilities.Drop, []corev1.Capability{"ALL"}) {
		t.Errorf("container security context %+v: want a read-only root filesystem, no privilege escalation, no capabilities", sc)
	}
	if pod.Spec.AutomountServiceAccountToken == nil || *pod.Spec.AutomountServiceAccountToken {
		t.Error("the service account token is mounted; the bridge does not use the Kubernetes API")
	}
	if ctr.Resources.Requests.Memory().IsZero() || ctr.Resources.Limits.Memory().IsZero() {
		t.Errorf("resources %+v: want memory requests and limits", ctr.Resources)
	}

	// Flags: every one exists in main.go; the shutdown deadline fits in the
	// grace period.
	flags := map[string]string{}
	known := bridgeFlags(t)
	for _, a := range ctr.Args {
		name, value, _ := strings.Cut(strings.TrimPrefix(a, "--"), "=")
		if !known[name] {
			t.Errorf("argument %q: no such flag in main.go", a)
		}
		flags[name] = value
	}
	shutdown, err := time.ParseDuration(flags["shutdown.timeout"])
	if grace := pod.Spec.TerminationGracePeriodSeconds; err != nil || grace == nil || time.Duration(*grace)*time.Second <= shutdown {
		t.Errorf("terminationGracePeriodSeconds %v is not longer than --shutdown.timeout=%s (%v)", grace, flags["shutdown.timeout"], err)
	}

	// Ports and probes.
	ports := map[string]int32{}
	for _, p := range ctr.Ports {
		ports[p.Name] = p.ContainerPort
	}
	if ":"+fmt.Sprint(ports["http"]) != flags["web.listen-address"] {
		t.Errorf("container port http %d, --web.listen-address=%s", ports["http"], flags["web.listen-address"])
	}
	for what, p := range map[string]*corev1.Probe{"startup": ctr.StartupProbe, "readiness": ctr.ReadinessProbe, "liveness": ctr.LivenessProbe} {
		if p == nil || p.HTTPGet == nil {
			t.Errorf("%s probe: none, or not HTTP", what)
			continue
		}
		if _, ok := ports[p.HTTPGet.Port.String()]; !ok {
			t.Errorf("%s probe: port %s is not a container port", what, p.HTTPGet.Port.String())
		}
		want := map[string]string{"startup": "/-/healthy", "readiness": "/-/ready", "liveness": "/-/healthy"}[what]
		if p.HTTPGet.Path != want {
			t.Errorf("%s probe: path %s, want %s", what, p.HTTPGet.Path, want)
		}
	}

	// Volumes: every mount has a volume (or a claim template); the store
	// and the config are where the flags say.
	volumes := map[string]corev1.Volume{}
	for _, v := range pod.Spec.Volumes {
		volumes[v.Name] = v
	}
	claims := map[string]bool{}
	for _, c := range sts.Spec.VolumeClaimTemplates {
		claims[c.Name] = true
	}
	mounts := map[string]string{}
	for _, m := range ctr.VolumeMounts {
		if _, ok := volumes[m.Name]; !ok && !claims[m.Name] {
			t.Errorf("volume mount %s: no such volume or claim template", m.Name)
		}
		mounts[m.MountPath] = m.Name
	}
	dataVolume := mounts[flags["storage.path"]]
	persistent := !(vals["persistence"] != nil && vals["persistence"].(map[string]any)["enabled"] == false)
	switch {
	case dataVolume == "":
		t.Errorf("--storage.path=%s is not a mounted volume", flags["storage.path"])
	case persistent && !claims[dataVolume]:
		t.Errorf("the store's volume %s is not a persistent volume claim", dataVolume)
	case !persistent && volumes[dataVolume].EmptyDir == nil:
		t.Errorf("without persistence the store's volume %s is not an emptyDir", dataVolume)
	}
	configVolume := volumes[mounts[path.Dir(flags["config.file"])]]
	if configVolume.ConfigMap == nil || configVolume.ConfigMap.Name != o.configMaps[0].Name {
		t.Errorf("--config.file=%s is not in the chart's ConfigMap", flags["config.file"])
	}
	secretVolume := volumes[mounts["/etc/alertbridge/secrets"]]
	if secretVolume.Secret == nil {
		t.Fatal("no Secret mounted at /etc/alertbridge/secrets")
	}
	existing := nestedString(vals, "secrets", "existingSecret")
	switch {
	case existing != "" && (secretVolume.Secret.SecretName != existing || len(o.secrets) != 0):
		t.Errorf("existingSecret %s: mounted %s, and the chart made %d Secrets", existing, secretVolume.Secret.SecretName, len(o.secrets))
	case existing == "" && (len(o.secrets) != 1 || o.secrets[0].Name != secretVolume.Secret.SecretName):
		t.Errorf("the chart's Secret is not the one mounted")
	}

	// Services: select the pod, and point at its port.
	if len(o.services) != 2 {
		t.Errorf("%d Services, want the Service and the headless one", len(o.services))
	}
	var svc *corev1.Service
	for _, s := range o.services {
		if !labels.SelectorFromSet(s.Spec.Selector).Matches(podLabels) {
			t.Errorf("Service %s selector %v does not match the pod", s.Name, s.Spec.Selector)
		}
		for _, p := range s.Spec.Ports {
			if _, ok := ports[p.TargetPort.String()]; !ok {
				t.Errorf("Service %s: targetPort %s is not a container port", s.Name, p.TargetPort.String())
			}
		}
		if s.Spec.ClusterIP == corev1.ClusterIPNone {
			if sts.Spec.ServiceName != s.Name {
				t.Errorf("StatefulSet serviceName %s, headless Service %s", sts.Spec.ServiceName, s.Name)
			}
		} else {
			svc = s
		}
	}
	if svc == nil {
		t.Fatal("no Service")
	}

	for _, p := range o.pdbs {
		if !labels.SelectorFromSet(p.Spec.Selector.MatchLabels).Matches(podLabels) {
			t.Errorf("PodDisruptionBudget selector does not match the pod")
		}
		if p.Spec.MinAvailable != nil {
			t.Errorf("PodDisruptionBudget minAvailable blocks every drain of a one-pod StatefulSet")
		}
	}
	for _, np := range o.networkPolicies {
		if !labels.SelectorFromSet(np.Spec.PodSelector.MatchLabels).Matches(podLabels) {
			t.Errorf("NetworkPolicy selector does not match the pod")
		}
		if len(np.Spec.Ingress) == 0 || len(np.Spec.Egress) == 0 {
			t.Errorf("NetworkPolicy: %d ingress and %d egress rules", len(np.Spec.Ingress), len(np.Spec.Egress))
		}
	}
	for _, sm := range o.serviceMonitors {
		if !labels.SelectorFromSet(sm.Spec.Selector.MatchLabels).Matches(labels.Set(svc.Labels)) {
			t.Errorf("ServiceMonitor selector does not match the Service")
		}
		if job := svc.Labels[sm.Spec.JobLabel]; job != "alertbridge" {
			t.Errorf("ServiceMonitor jobLabel %s gives job %q; the rules expect alertbridge", sm.Spec.JobLabel, job)
		}
		apiCredential := regexp.MustCompile(`(?m)^api:`).MatchString(o.configMaps[0].Data["alertbridge.yml"])
		for _, ep := range sm.Spec.Endpoints {
			if apiCredential && (ep.Authorization == nil || ep.Authorization.Credentials == nil) {
				t.Errorf("config has an api credential, which /metrics then requires, but the ServiceMonitor sends none")
			}
			if !slices.ContainsFunc(svc.Spec.Ports, func(p corev1.ServicePort) bool { return p.Name == ep.Port }) {
				t.Errorf("ServiceMonitor endpoint port %s is not a Service port", ep.Port)
			}
		}
	}
	for _, pr := range o.prometheusRules {
		checkRules(t, pr)
	}
	if !strings.Contains(o.notes, svc.Name+"."+svc.Namespace+".svc") {
		t.Errorf("NOTES.txt does not name the Service:\n%s", o.notes)
	}

	checkConfig(t, o.configMaps[0], o.secrets, flags["config.file"])
}

// checkRules: the PrometheusRule carries the rules shipped in
// examples/deploy/prometheus, unchanged.
func checkRules(t *testing.T, pr *monitoringv1.PrometheusRule) {
	t.Helper()
	var shipped monitoringv1.PrometheusRuleSpec
	raw, err := os.ReadFile("../examples/deploy/prometheus/alertbridge-rules.yml")
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.UnmarshalStrict(raw, &shipped); err != nil {
		t.Fatalf("alertbridge-rules.yml: %v", err)
	}
	if len(shipped.Groups) == 0 || !reflect.DeepEqual(shipped, pr.Spec) {
		t.Errorf("the PrometheusRule's rules differ from examples/deploy/prometheus/alertbridge-rules.yml; copy that file to %s/files/", chartDir)
	}
	for _, g := range pr.Spec.Groups {
		for _, r := range g.Rules {
			if strings.Contains(r.Expr.String(), "job=") && !strings.Contains(r.Expr.String(), `job="alertbridge"`) {
				t.Errorf("rule %s selects another job: %s", r.Alert, r.Expr.String())
			}
		}
	}
}

// checkConfig writes the ConfigMap and the Secret's files where the pod
// mounts them (under a temporary root) and runs check-config on the
// result. With an existing Secret, each file the config names under
// /etc/alertbridge/secrets gets a value of the right shape.
func checkConfig(t *testing.T, cm *corev1.ConfigMap, secrets []*corev1.Secret, configFile string) {
	t.Helper()
	root := t.TempDir()
	text := cm.Data[path.Base(configFile)]
	if text == "" {
		t.Fatalf("ConfigMap has no %s", path.Base(configFile))
	}
	files := map[string]string{}
	for _, s := range secrets {
		for k, v := range s.StringData {
			files[k] = v
		}
	}
	if len(secrets) == 0 {
		for _, m := range regexp.MustCompile(`/etc/alertbridge/secrets/([\w.-]+)`).FindAllStringSubmatch(text, -1) {
			switch name := m[1]; {
			case strings.Contains(name, "slack"):
				files[name] = "https://hooks.slack.com/services/T000/B000/XXXX"
			case strings.Contains(name, "url"):
				files[name] = "https://hooks.example.com/" + name
			default:
				files[name] = "example-" + name
			}
		}
	}
	var cfg map[string]any
	if err := yamlv3.Unmarshal([]byte(text), &cfg); err != nil {
		t.Fatalf("alertbridge.yml: %v", err)
	}
	text = strings.ReplaceAll(text, "/etc/alertbridge/", root+"/etc/alertbridge/")
	for name, value := range files {
		write(t, filepath.Join(root, "etc/alertbridge/secrets", name), value)
	}
	file := filepath.Join(root, configFile)
	write(t, file, text)
	if errs := bridge.CheckConfig(file); len(errs) != 0 {
		t.Errorf("check-config on the rendered alertbridge.yml:\n%v\n%s", errs, text)
	}
}

func write(t *testing.T, file, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(file, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

func nestedString(m map[string]any, keys ...string) string {
	var v any = m
	for _, k := range keys {
		mm, ok := v.(map[string]any)
		if !ok {
			return ""
		}
		v = mm[k]
	}
	s, _ := v.(string)
	return s
}

// bridgeFlags returns the flags main.go defines.
func bridgeFlags(t *testing.T) map[string]bool {
	t.Helper()
	raw, err := os.ReadFile("../main.go")
	if err != nil {
		t.Fatal(err)
	}
	flags := map[string]bool{}
	for _, m := range regexp.MustCompile(`app\.Flag\("([^"]+)"`).FindAllSubmatch(raw, -1) {
		flags[string(m[1])] = true
	}
	if !flags["config.file"] || !flags["storage.path"] {
		t.Fatal("main.go: the flag definitions were not found")
	}
	return flags
}
