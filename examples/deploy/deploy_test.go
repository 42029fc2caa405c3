// Package deploy_test checks the deployment examples in this folder: the
// Kubernetes manifests (the sidecar, and the replicas on NATS JetStream in
// kubernetes_ha_test.go), the docker compose setup, the Prometheus rules and
// the Grafana dashboard. Nothing is started; the files are parsed and the
// configurations they carry are loaded by the same code alertbridge and
// Alertmanager use.
package deploy_test

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"reflect"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"text/template"
	"time"

	amconfig "github.com/prometheus/alertmanager/config"
	"github.com/prometheus/alertmanager/notify/webhook"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/model"
	"go.yaml.in/yaml/v3"

	"github.com/alertbridge/alertbridge/bridge"
	"github.com/alertbridge/alertbridge/bridge/metrics"
)

const (
	manifestFile  = "kubernetes/alertbridge-sidecar.yaml"
	composeFile   = "docker-compose.yml"
	rulesFile     = "prometheus/alertbridge-rules.yml"
	dashboardFile = "grafana/alertbridge-dashboard.json"
)

// knownMetrics are the series names the rules and the dashboard may use:
// the bridge's own metrics (bridge/metrics/metrics.go), the histogram's
// series, and the two that Prometheus and client_golang add.
var knownMetrics = map[string]bool{
	"alertbridge_notifications_received_total":                 true,
	"alertbridge_alerts_received_total":                        true,
	"alertbridge_deliveries_total":                             true,
	"alertbridge_delivery_attempt_failures_total":              true,
	"alertbridge_delivery_attempt_duration_seconds_bucket":     true,
	"alertbridge_delivery_attempt_duration_seconds_count":      true,
	"alertbridge_delivery_attempt_duration_seconds_sum":        true,
	"alertbridge_queue_depth":                                  true,
	"alertbridge_queue_oldest_job_age_seconds":                 true,
	"alertbridge_notifications_superseded_total":               true,
	"alertbridge_config_last_reload_successful":                true,
	"alertbridge_config_last_reload_success_timestamp_seconds": true,
	"alertbridge_build_info":                                   true,
	"up":                                                       true, // added by Prometheus at scrape time
	"process_resident_memory_bytes":                            true,
}

// bridgeFlags returns the flags main.go defines (app.Flag("name", ...)),
// so the examples cannot use a flag that does not exist.
func bridgeFlags(t *testing.T) map[string]bool {
	t.Helper()
	flags := map[string]bool{}
	for _, m := range regexp.MustCompile(`app\.Flag\("([^"]+)"`).FindAllStringSubmatch(readFile(t, "../../main.go"), -1) {
		flags[m[1]] = true
	}
	for _, f := range []string{"config.file", "storage.path", "web.listen-address", "shutdown.timeout"} {
		if !flags[f] {
			t.Fatalf("main.go: flag --%s not found; has the flag definition changed?", f)
		}
	}
	return flags
}

// ---------------------------------------------------------------------------
// Kubernetes manifest

// k8sObject is the part of a Kubernetes object the tests read. Decoding is
// not strict: fields the tests do not need are ignored.
type k8sObject struct {
	APIVersion string `yaml:"apiVersion"`
	Kind       string `yaml:"kind"`
	Metadata   struct {
		Name        string            `yaml:"name"`
		Labels      map[string]string `yaml:"labels"`
		Annotations map[string]string `yaml:"annotations"`
	} `yaml:"metadata"`
	Data       map[string]string `yaml:"data"`       // ConfigMap
	StringData map[string]string `yaml:"stringData"` // Secret
	Spec       struct {
		// Service
		ClusterIP string        `yaml:"clusterIP"`
		Selector  yaml.Node     `yaml:"selector"`
		Ports     []servicePort `yaml:"ports"`
		// StatefulSet, Deployment
		ServiceName string `yaml:"serviceName"`
		Replicas    *int   `yaml:"replicas"`
		Strategy    struct {
			Type          string `yaml:"type"`
			RollingUpdate struct {
				MaxSurge       any `yaml:"maxSurge"`
				MaxUnavailable any `yaml:"maxUnavailable"`
			} `yaml:"rollingUpdate"`
		} `yaml:"strategy"`
		// PodDisruptionBudget
		MaxUnavailable any `yaml:"maxUnavailable"`
		MinAvailable   any `yaml:"minAvailable"`
		Template       struct {
			Metadata struct {
				Labels map[string]string `yaml:"labels"`
			} `yaml:"metadata"`
			Spec podSpec `yaml:"spec"`
		} `yaml:"template"`
		VolumeClaimTemplates []struct {
			Metadata struct {
				Name string `yaml:"name"`
			} `yaml:"metadata"`
		} `yaml:"volumeClaimTemplates"`
	} `yaml:"spec"`
}

type servicePort struct {
	Name       string `yaml:"name"`
	Port       int    `yaml:"port"`
	TargetPort any    `yaml:"targetPort"`
}

type podSpec struct {
	TerminationGracePeriodSeconds *int             `yaml:"terminationGracePeriodSeconds"`
	SecurityContext               *securityContext `yaml:"securityContext"`
	Containers                    []container      `yaml:"containers"`
	Volumes                       []volume         `yaml:"volumes"`
}

type securityContext struct {
	RunAsNonRoot           *bool `yaml:"runAsNonRoot"`
	RunAsUser              *int  `yaml:"runAsUser"`
	ReadOnlyRootFilesystem *bool `yaml:"readOnlyRootFilesystem"`
}

type probe struct {
	HTTPGet *struct {
		Path string `yaml:"path"`
		Port any    `yaml:"port"`
	} `yaml:"httpGet"`
}

type container struct {
	Name  string   `yaml:"name"`
	Image string   `yaml:"image"`
	Args  []string `yaml:"args"`
	Env   []struct {
		Name  string `yaml:"name"`
		Value string `yaml:"value"`
	} `yaml:"env"`
	Ports []struct {
		Name          string `yaml:"name"`
		ContainerPort int    `yaml:"containerPort"`
	} `yaml:"ports"`
	ReadinessProbe  *probe           `yaml:"readinessProbe"`
	LivenessProbe   *probe           `yaml:"livenessProbe"`
	StartupProbe    *probe           `yaml:"startupProbe"`
	SecurityContext *securityContext `yaml:"securityContext"`
	Resources       struct {
		Requests map[string]string `yaml:"requests"`
		Limits   map[string]string `yaml:"limits"`
	} `yaml:"resources"`
	VolumeMounts []struct {
		Name      string `yaml:"name"`
		MountPath string `yaml:"mountPath"`
		SubPath   string `yaml:"subPath"`
		ReadOnly  bool   `yaml:"readOnly"`
	} `yaml:"volumeMounts"`
}

type keyToPath struct {
	Key  string `yaml:"key"`
	Path string `yaml:"path"`
}

type objectSource struct {
	Name  string      `yaml:"name"`
	Items []keyToPath `yaml:"items"`
}

type volume struct {
	Name      string        `yaml:"name"`
	ConfigMap *objectSource `yaml:"configMap"`
	Secret    *struct {
		SecretName string      `yaml:"secretName"`
		Items      []keyToPath `yaml:"items"`
	} `yaml:"secret"`
	Projected *struct {
		Sources []struct {
			ConfigMap *objectSource `yaml:"configMap"`
			Secret    *objectSource `yaml:"secret"`
		} `yaml:"sources"`
	} `yaml:"projected"`
	EmptyDir              any `yaml:"emptyDir"`
	PersistentVolumeClaim any `yaml:"persistentVolumeClaim"`
}

// manifest is the parsed Kubernetes manifest.
type manifest struct {
	source  string // the file (or folder) it was read from, for messages
	objects []k8sObject
}

func (m *manifest) get(t *testing.T, kind, name string) *k8sObject {
	t.Helper()
	for i := range m.objects {
		if m.objects[i].Kind == kind && m.objects[i].Metadata.Name == name {
			return &m.objects[i]
		}
	}
	t.Fatalf("%s: no %s named %q", m.source, kind, name)
	return nil
}

// yamlDocs splits a multi-document YAML file into its documents, skipping
// empty ones (a leading "---").
func yamlDocs(t *testing.T, file string) []*yaml.Node {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	var docs []*yaml.Node
	for {
		var n yaml.Node
		err := dec.Decode(&n)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("%s: document %d: %v", file, len(docs)+1, err)
		}
		if len(n.Content) == 0 || n.Content[0].Tag == "!!null" {
			continue
		}
		docs = append(docs, &n)
	}
	return docs
}

func loadManifest(t *testing.T) *manifest {
	t.Helper()
	return loadManifestFiles(t, manifestFile, manifestFile)
}

// loadManifestFiles reads the objects of several manifest files into one
// manifest; source names them in messages.
func loadManifestFiles(t *testing.T, source string, files ...string) *manifest {
	t.Helper()
	m := &manifest{source: source}
	for _, file := range files {
		for i, doc := range yamlDocs(t, file) {
			var o k8sObject
			if err := doc.Decode(&o); err != nil {
				t.Fatalf("%s: document %d: %v", file, i+1, err)
			}
			if o.APIVersion == "" || o.Kind == "" || o.Metadata.Name == "" {
				t.Fatalf("%s: document %d lacks apiVersion, kind or metadata.name", file, i+1)
			}
			m.objects = append(m.objects, o)
		}
	}
	return m
}

// checkObjects checks that the manifest holds exactly the objects want
// ("Kind/name", sorted), each with the apiVersion its kind has in
// apiVersions.
func (m *manifest) checkObjects(t *testing.T, want []string, apiVersions map[string]string) {
	t.Helper()
	var got []string
	for _, o := range m.objects {
		got = append(got, o.Kind+"/"+o.Metadata.Name)
	}
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Fatalf("objects:\n got  %q\n want %q", got, want)
	}
	for _, o := range m.objects {
		if o.APIVersion != apiVersions[o.Kind] {
			t.Errorf("%s/%s: apiVersion %q, want %q", o.Kind, o.Metadata.Name, o.APIVersion, apiVersions[o.Kind])
		}
	}
}

func TestKubernetesManifestParses(t *testing.T) {
	m := loadManifest(t)
	m.checkObjects(t, []string{
		"ConfigMap/alertbridge-config",
		"Secret/alertbridge-secrets",
		"Service/alertmanager",
		"Service/alertmanager-headless",
		"StatefulSet/alertmanager",
	}, map[string]string{"ConfigMap": "v1", "Secret": "v1", "Service": "v1", "StatefulSet": "apps/v1"})

	cm := m.get(t, "ConfigMap", "alertbridge-config")
	for _, k := range []string{"alertbridge.yml", "alertmanager.yml"} {
		if strings.TrimSpace(cm.Data[k]) == "" {
			t.Errorf("ConfigMap alertbridge-config: data[%q] is empty", k)
		}
	}
	sec := m.get(t, "Secret", "alertbridge-secrets")
	for _, k := range []string{"webhook-url", "inbound-token"} {
		if strings.TrimSpace(sec.StringData[k]) == "" {
			t.Errorf("Secret alertbridge-secrets: stringData[%q] is empty", k)
		}
	}
}

func TestKubernetesStatefulSet(t *testing.T) {
	m := loadManifest(t)
	sts := m.get(t, "StatefulSet", "alertmanager")
	pod := &sts.Spec.Template.Spec

	headless := m.get(t, "Service", sts.Spec.ServiceName)
	if headless.Spec.ClusterIP != "None" {
		t.Errorf("StatefulSet serviceName %q is not a headless Service", sts.Spec.ServiceName)
	}

	am := findContainer(t, pod, "alertmanager")
	if !strings.HasPrefix(am.Image, "quay.io/prometheus/alertmanager:") {
		t.Errorf("alertmanager image %q", am.Image)
	}
	ab := findContainer(t, pod, "alertbridge")
	if !strings.HasPrefix(ab.Image, "ghcr.io/alertbridge/alertbridge:") {
		t.Errorf("alertbridge image %q", ab.Image)
	}

	// Flags: every one exists, and the deployment-relevant ones are set.
	flags := parseFlags(t, ab.Args)
	known := bridgeFlags(t)
	for name := range flags {
		if !known[name] {
			t.Errorf("alertbridge: unknown flag --%s", name)
		}
	}
	wantFlags := map[string]string{
		"config.file":        "/etc/alertbridge/alertbridge.yml",
		"storage.path":       "/var/lib/alertbridge",
		"web.listen-address": ":9097",
	}
	for k, v := range wantFlags {
		if flags[k] != v {
			t.Errorf("alertbridge: --%s=%q, want %q", k, flags[k], v)
		}
	}

	// Shutdown: the kubelet must not SIGKILL before the bridge's deadline.
	shutdown, err := time.ParseDuration(flags["shutdown.timeout"])
	if err != nil {
		t.Fatalf("alertbridge: --shutdown.timeout: %v", err)
	}
	if pod.TerminationGracePeriodSeconds == nil {
		t.Fatal("terminationGracePeriodSeconds is not set")
	}
	grace := time.Duration(*pod.TerminationGracePeriodSeconds) * time.Second
	if grace < shutdown+5*time.Second {
		t.Errorf("terminationGracePeriodSeconds %v leaves less than 5s beyond --shutdown.timeout=%v", grace, shutdown)
	}

	// Probes on the bridge's port.
	port := containerPort(t, ab, "bridge")
	if port != 9097 {
		t.Errorf("alertbridge container port %d, want 9097", port)
	}
	checkProbe(t, ab, "readiness", ab.ReadinessProbe, "/-/ready", 9097)
	checkProbe(t, ab, "liveness", ab.LivenessProbe, "/-/healthy", 9097)
	checkProbe(t, am, "readiness", am.ReadinessProbe, "/-/ready", 9093)
	checkProbe(t, am, "liveness", am.LivenessProbe, "/-/healthy", 9093)

	// Security: non-root 65532 (pod or container level), read-only root.
	for _, c := range []*container{am, ab} {
		sc := effectiveSecurity(pod.SecurityContext, c.SecurityContext)
		if sc.RunAsNonRoot == nil || !*sc.RunAsNonRoot {
			t.Errorf("%s: runAsNonRoot is not true", c.Name)
		}
		if sc.RunAsUser == nil || *sc.RunAsUser != 65532 {
			t.Errorf("%s: runAsUser is not 65532", c.Name)
		}
		if c.SecurityContext == nil || c.SecurityContext.ReadOnlyRootFilesystem == nil || !*c.SecurityContext.ReadOnlyRootFilesystem {
			t.Errorf("%s: readOnlyRootFilesystem is not true", c.Name)
		}
		if c.Resources.Limits["memory"] == "" || c.Resources.Requests["memory"] == "" || c.Resources.Requests["cpu"] == "" {
			t.Errorf("%s: resources lack a memory limit or requests", c.Name)
		}
	}
	if got := ab.Resources.Limits["memory"]; got != "128Mi" {
		t.Errorf("alertbridge memory limit %q, want 128Mi", got)
	}

	// Every mount has a volume; the storage path is on a claim or emptyDir,
	// and writable.
	claims := map[string]bool{}
	for _, c := range sts.Spec.VolumeClaimTemplates {
		claims[c.Metadata.Name] = true
	}
	for _, c := range []*container{am, ab} {
		for _, vm := range c.VolumeMounts {
			if findVolume(pod, vm.Name) == nil && !claims[vm.Name] {
				t.Errorf("%s: volumeMount %q has no volume or volumeClaimTemplate", c.Name, vm.Name)
			}
			if vm.SubPath != "" {
				t.Errorf("%s: volumeMount %q uses subPath; the kubelet would never update it", c.Name, vm.Name)
			}
		}
	}
	storage := false
	for _, vm := range ab.VolumeMounts {
		if vm.MountPath != flags["storage.path"] {
			continue
		}
		storage = true
		v := findVolume(pod, vm.Name)
		if !claims[vm.Name] && (v == nil || (v.EmptyDir == nil && v.PersistentVolumeClaim == nil)) {
			t.Errorf("alertbridge: --storage.path is on volume %q, which is neither a claim nor an emptyDir", vm.Name)
		}
		if vm.ReadOnly {
			t.Errorf("alertbridge: --storage.path is mounted read-only")
		}
	}
	if !storage {
		t.Errorf("alertbridge: no volume is mounted at --storage.path=%s", flags["storage.path"])
	}

	// The Service: both ports, and scrape annotations on the bridge's port.
	svc := m.get(t, "Service", "alertmanager")
	ports := map[int]bool{}
	for _, p := range svc.Spec.Ports {
		ports[p.Port] = true
	}
	if !ports[9093] || !ports[9097] {
		t.Errorf("Service alertmanager ports %v, want 9093 and 9097", svc.Spec.Ports)
	}
	if a := svc.Metadata.Annotations; a["prometheus.io/scrape"] != "true" || a["prometheus.io/port"] != "9097" {
		t.Errorf("Service alertmanager annotations %v: want prometheus.io/scrape=true, prometheus.io/port=9097", a)
	}
	var sel map[string]string
	if err := svc.Spec.Selector.Decode(&sel); err != nil || len(sel) == 0 {
		t.Fatalf("Service alertmanager: selector: %v", err)
	}
	for k, v := range sel {
		if sts.Spec.Template.Metadata.Labels[k] != v {
			t.Errorf("Service alertmanager selects %s=%s, which the pod template does not carry", k, v)
		}
	}
}

// TestKubernetesAlertbridgeConfig lays the alertbridge container's mounted
// files out under a temporary root, as the kubelet would (the ConfigMap's
// and the Secret's items), and runs check-config on --config.file there.
// So the config, the mounts and the flags are checked together: a url_file
// that the mounts do not provide fails.
func TestKubernetesAlertbridgeConfig(t *testing.T) {
	m := loadManifest(t)
	pod := &m.get(t, "StatefulSet", "alertmanager").Spec.Template.Spec
	ab := findContainer(t, pod, "alertbridge")
	root := materialize(t, m, pod, ab)
	cfgFile := filepath.Join(root, parseFlags(t, ab.Args)["config.file"])
	reroot(t, cfgFile, root)

	if errs := bridge.CheckConfig(cfgFile); len(errs) > 0 {
		t.Fatalf("check-config %s (from ConfigMap alertbridge-config):\n%v", manifestFile, errors.Join(errs...))
	}

	var cfg struct {
		Inbound struct {
			BearerTokenFile string `yaml:"bearer_token_file"`
		} `yaml:"inbound"`
		Targets []struct {
			URLFile string   `yaml:"url_file"`
			Match   []string `yaml:"match"`
		} `yaml:"targets"`
	}
	decodeYAMLFile(t, cfgFile, &cfg)
	if cfg.Inbound.BearerTokenFile == "" {
		t.Error("alertbridge.yml: inbound.bearer_token_file is not set")
	}
	var urlFile, match bool
	for _, tg := range cfg.Targets {
		urlFile = urlFile || tg.URLFile != ""
		match = match || len(tg.Match) > 0
	}
	if !urlFile || !match {
		t.Errorf("alertbridge.yml: want a target with url_file and one with match (url_file %v, match %v)", urlFile, match)
	}

	// The token the bridge requires is the one Alertmanager sends.
	am := findContainer(t, pod, "alertmanager")
	amRoot := materialize(t, m, pod, am)
	amCfg := loadAlertmanager(t, filepath.Join(amRoot, parseFlags(t, am.Args)["config.file"]))
	wc := onlyWebhook(t, amCfg)
	if wc.HTTPConfig == nil || wc.HTTPConfig.Authorization == nil || wc.HTTPConfig.Authorization.CredentialsFile == "" {
		t.Fatal("alertmanager.yml: the webhook has no http_config.authorization.credentials_file")
	}
	sent := readFile(t, filepath.Join(amRoot, wc.HTTPConfig.Authorization.CredentialsFile))
	required := readFile(t, resolveIn(filepath.Dir(cfgFile), cfg.Inbound.BearerTokenFile))
	if strings.TrimSpace(sent) != strings.TrimSpace(required) || strings.TrimSpace(sent) == "" {
		t.Error("Alertmanager's credentials_file and the bridge's bearer_token_file do not hold the same token")
	}
}

// TestKubernetesAlertmanagerConfig loads the ConfigMap's alertmanager.yml
// with Alertmanager's own loader.
func TestKubernetesAlertmanagerConfig(t *testing.T) {
	m := loadManifest(t)
	pod := &m.get(t, "StatefulSet", "alertmanager").Spec.Template.Spec
	am := findContainer(t, pod, "alertmanager")
	root := materialize(t, m, pod, am)
	cfg := loadAlertmanager(t, filepath.Join(root, parseFlags(t, am.Args)["config.file"]))
	wc := onlyWebhook(t, cfg)
	if got := string(wc.URL); got != "http://127.0.0.1:9097/webhook" {
		t.Errorf("webhook url %q, want http://127.0.0.1:9097/webhook", got)
	}
	if !wc.SendResolved() {
		t.Error("webhook send_resolved is false")
	}
	if wc.HTTPConfig == nil || wc.HTTPConfig.Authorization == nil {
		t.Fatal("webhook has no http_config.authorization")
	}
	f := wc.HTTPConfig.Authorization.CredentialsFile
	if !filepath.IsAbs(f) {
		t.Fatalf("credentials_file %q is not absolute", f)
	}
	if _, err := os.Stat(filepath.Join(root, f)); err != nil {
		t.Errorf("credentials_file %s is not provided by the alertmanager container's mounts: %v", f, err)
	}
}

func findContainer(t *testing.T, pod *podSpec, name string) *container {
	t.Helper()
	for i := range pod.Containers {
		if pod.Containers[i].Name == name {
			return &pod.Containers[i]
		}
	}
	t.Fatalf("no container %q", name)
	return nil
}

func findVolume(pod *podSpec, name string) *volume {
	for i := range pod.Volumes {
		if pod.Volumes[i].Name == name {
			return &pod.Volumes[i]
		}
	}
	return nil
}

func containerPort(t *testing.T, c *container, name string) int {
	t.Helper()
	for _, p := range c.Ports {
		if p.Name == name {
			return p.ContainerPort
		}
	}
	t.Fatalf("%s: no port named %q", c.Name, name)
	return 0
}

func checkProbe(t *testing.T, c *container, kind string, p *probe, wantPath string, wantPort int) {
	t.Helper()
	if p == nil || p.HTTPGet == nil {
		t.Errorf("%s: no %s httpGet probe", c.Name, kind)
		return
	}
	port := 0
	switch v := p.HTTPGet.Port.(type) {
	case int:
		port = v
	case string:
		port = containerPort(t, c, v)
	}
	if p.HTTPGet.Path != wantPath || port != wantPort {
		t.Errorf("%s: %s probe %s on %d, want %s on %d", c.Name, kind, p.HTTPGet.Path, port, wantPath, wantPort)
	}
}

func effectiveSecurity(pod, c *securityContext) securityContext {
	var sc securityContext
	if pod != nil {
		sc = *pod
	}
	if c != nil {
		if c.RunAsNonRoot != nil {
			sc.RunAsNonRoot = c.RunAsNonRoot
		}
		if c.RunAsUser != nil {
			sc.RunAsUser = c.RunAsUser
		}
	}
	return sc
}

// parseFlags turns --name=value arguments into a map.
func parseFlags(t *testing.T, args []string) map[string]string {
	t.Helper()
	flags := map[string]string{}
	for _, a := range args {
		name, value, ok := strings.Cut(strings.TrimPrefix(a, "--"), "=")
		if !strings.HasPrefix(a, "--") || !ok {
			t.Fatalf("argument %q: want --name=value", a)
		}
		flags[name] = value
	}
	return flags
}

// materialize writes the files that the container's ConfigMap, Secret and
// projected volumes provide under a temporary root, at their mount paths,
// and returns the root.
func materialize(t *testing.T, m *manifest, pod *podSpec, c *container) string {
	t.Helper()
	root := t.TempDir()
	write := func(mountPath string, data map[string]string, what string, items []keyToPath) {
		if len(items) == 0 { // no items: every key, under its own name
			for k := range data {
				items = append(items, keyToPath{Key: k, Path: k})
			}
		}
		for _, it := range items {
			v, ok := data[it.Key]
			if !ok {
				t.Fatalf("%s: %s has no key %q", c.Name, what, it.Key)
			}
			p := filepath.Join(root, mountPath, filepath.FromSlash(it.Path))
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(p, []byte(v), 0o600); err != nil {
				t.Fatal(err)
			}
		}
	}
	configMap := func(name string) map[string]string { return m.get(t, "ConfigMap", name).Data }
	secret := func(name string) map[string]string { return m.get(t, "Secret", name).StringData }
	for _, vm := range c.VolumeMounts {
		v := findVolume(pod, vm.Name)
		if v == nil {
			continue // a claim
		}
		switch {
		case v.ConfigMap != nil:
			write(vm.MountPath, configMap(v.ConfigMap.Name), "ConfigMap "+v.ConfigMap.Name, v.ConfigMap.Items)
		case v.Secret != nil:
			write(vm.MountPath, secret(v.Secret.SecretName), "Secret "+v.Secret.SecretName, v.Secret.Items)
		case v.Projected != nil:
			for _, s := range v.Projected.Sources {
				switch {
				case s.ConfigMap != nil:
					write(vm.MountPath, configMap(s.ConfigMap.Name), "ConfigMap "+s.ConfigMap.Name, s.ConfigMap.Items)
				case s.Secret != nil:
					write(vm.MountPath, secret(s.Secret.Name), "Secret "+s.Secret.Name, s.Secret.Items)
				}
			}
		}
	}
	return root
}

// reroot rewrites absolute *_file paths in an alertbridge configuration so
// they point into root, where materialize put the mounted files. Relative
// paths are left alone: they resolve against the configuration file's
// folder, which is already inside root.
func reroot(t *testing.T, file, root string) {
	t.Helper()
	var doc yaml.Node
	if err := yaml.Unmarshal([]byte(readFile(t, file)), &doc); err != nil {
		t.Fatal(err)
	}
	changed := false
	var walk func(n *yaml.Node)
	walk = func(n *yaml.Node) {
		if n.Kind == yaml.MappingNode {
			for i := 0; i+1 < len(n.Content); i += 2 {
				k, v := n.Content[i], n.Content[i+1]
				if strings.HasSuffix(k.Value, "_file") && v.Kind == yaml.ScalarNode && path.IsAbs(v.Value) {
					v.Value = filepath.Join(root, filepath.FromSlash(v.Value))
					changed = true
				}
			}
		}
		for _, c := range n.Content {
			walk(c)
		}
	}
	walk(&doc)
	if !changed {
		return
	}
	b, err := yaml.Marshal(&doc)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(file, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

// ---------------------------------------------------------------------------
// docker compose

type composeService struct {
	Image string `yaml:"image"`
	Build *struct {
		Context    string `yaml:"context"`
		Dockerfile string `yaml:"dockerfile"`
	} `yaml:"build"`
	Command    []string `yaml:"command"`
	WorkingDir string   `yaml:"working_dir"`
	Volumes    []string `yaml:"volumes"`
	Ports      []string `yaml:"ports"`
	DependsOn  map[string]struct {
		Condition string `yaml:"condition"`
	} `yaml:"depends_on"`
	Env         map[string]string `yaml:"environment"`
	Healthcheck *struct {
		Test []string `yaml:"test"`
	} `yaml:"healthcheck"`
}

type composeProject struct {
	Services map[string]composeService `yaml:"services"`
	Volumes  map[string]any            `yaml:"volumes"`
}

func loadCompose(t *testing.T) composeProject {
	t.Helper()
	docs := yamlDocs(t, composeFile)
	if len(docs) != 1 {
		t.Fatalf("%s: %d documents, want 1", composeFile, len(docs))
	}
	var p composeProject
	if err := docs[0].Decode(&p); err != nil {
		t.Fatalf("%s: %v", composeFile, err)
	}
	return p
}

func TestComposeFile(t *testing.T) {
	p := loadCompose(t)
	var names []string
	for n := range p.Services {
		names = append(names, n)
	}
	slices.Sort(names)
	if want := []string{"alertbridge", "alertmanager", "sink"}; !slices.Equal(names, want) {
		t.Fatalf("services %q, want %q", names, want)
	}

	ab := p.Services["alertbridge"]
	if ab.Build == nil {
		t.Fatal("alertbridge: no build section")
	}
	df := filepath.Join(ab.Build.Context, cmp.Or(ab.Build.Dockerfile, "Dockerfile"))
	if _, err := os.Stat(df); err != nil {
		t.Errorf("alertbridge: build Dockerfile: %v", err)
	}
	if _, err := os.Stat(filepath.Join(ab.Build.Context, "go.mod")); err != nil {
		t.Errorf("alertbridge: build context %q is not the repository root: %v", ab.Build.Context, err)
	}
	flags := parseFlags(t, ab.Command)
	known := bridgeFlags(t)
	for name := range flags {
		if !known[name] {
			t.Errorf("alertbridge: unknown flag --%s", name)
		}
	}
	// The bridge checks itself (the image has no shell), and Alertmanager
	// waits until it is healthy.
	if hc := ab.Healthcheck; hc == nil || len(hc.Test) < 3 || !slices.Equal(hc.Test[:3], []string{"CMD", "/alertbridge", "healthcheck"}) {
		t.Errorf("alertbridge: healthcheck %+v, want [CMD /alertbridge healthcheck ...]", hc)
	} else {
		var hcListen string
		for _, a := range hc.Test[3:] {
			if v, ok := strings.CutPrefix(a, "--web.listen-address="); ok {
				hcListen = v
			}
		}
		if hcListen != flags["web.listen-address"] {
			t.Errorf("alertbridge: the healthcheck asks --web.listen-address=%q, the bridge listens on %q", hcListen, flags["web.listen-address"])
		}
	}
	if dep := p.Services["alertmanager"].DependsOn["alertbridge"]; dep.Condition != "service_healthy" {
		t.Errorf("alertmanager: depends_on alertbridge with condition %q, want service_healthy", dep.Condition)
	}
	if !strings.HasPrefix(p.Services["alertmanager"].Image, "prom/alertmanager") {
		t.Errorf("alertmanager image %q", p.Services["alertmanager"].Image)
	}
	if sink := p.Services["sink"]; !strings.HasPrefix(sink.Image, "golang:1.26") ||
		!slices.Equal(sink.Command, []string{"go", "run", "./examples/sink", "-listen", "0.0.0.0:9098"}) {
		t.Errorf("sink: image %q command %q", sink.Image, sink.Command)
	}

	// Volumes: bind mounts exist, named volumes are declared, and the
	// bridge's storage path is a named volume.
	for name, s := range p.Services {
		for _, v := range s.Volumes {
			src, dst, _ := strings.Cut(v, ":")
			dst, _, _ = strings.Cut(dst, ":")
			if strings.HasPrefix(src, ".") || strings.HasPrefix(src, "/") {
				if _, err := os.Stat(src); err != nil {
					t.Errorf("%s: bind mount source: %v", name, err)
				}
			} else if _, ok := p.Volumes[src]; !ok {
				t.Errorf("%s: named volume %q is not declared", name, src)
			} else if name == "alertbridge" && dst == flags["storage.path"] {
				flags["storage.path"] = "" // found
			}
		}
	}
	if flags["storage.path"] != "" {
		t.Errorf("alertbridge: --storage.path is not on a named volume")
	}
}

// TestComposeConfigs checks both configurations, and that their URLs name
// the compose services and ports that exist.
func TestComposeConfigs(t *testing.T) {
	p := loadCompose(t)
	mounted := func(service, target string) string {
		for _, v := range p.Services[service].Volumes {
			parts := strings.Split(v, ":")
			if len(parts) >= 2 && parts[1] == target {
				return parts[0]
			}
		}
		t.Fatalf("%s: nothing mounted at %s", service, target)
		return ""
	}

	abFlags := parseFlags(t, p.Services["alertbridge"].Command)
	abFile := mounted("alertbridge", abFlags["config.file"])
	if errs := bridge.CheckConfig(abFile); len(errs) > 0 {
		t.Fatalf("check-config %s:\n%v", abFile, errors.Join(errs...))
	}
	var abCfg struct {
		Targets []struct {
			URL string `yaml:"url"`
		} `yaml:"targets"`
	}
	decodeYAMLFile(t, abFile, &abCfg)
	sinkListen := p.Services["sink"].Command[len(p.Services["sink"].Command)-1]
	_, sinkPort, _ := net.SplitHostPort(sinkListen)
	for _, tg := range abCfg.Targets {
		u, err := url.Parse(tg.URL)
		if err != nil || u.Host != "sink:"+sinkPort {
			t.Errorf("%s: target url %q does not point at the sink service (sink:%s)", abFile, tg.URL, sinkPort)
		}
	}

	amFile := ""
	for _, a := range p.Services["alertmanager"].Volumes {
		if strings.HasSuffix(a, ".yml:/etc/alertmanager/alertmanager.yml:ro") {
			amFile, _, _ = strings.Cut(a, ":")
		}
	}
	if amFile == "" {
		t.Fatal("alertmanager: no alertmanager.yml mounted")
	}
	cfg := loadAlertmanager(t, amFile)
	wc := onlyWebhook(t, cfg)
	_, abPort, _ := net.SplitHostPort(cmp.Or(abFlags["web.listen-address"], ":9097"))
	if got, want := string(wc.URL), "http://alertbridge:"+abPort+"/webhook"; got != want {
		t.Errorf("%s: webhook url %q, want %q", amFile, got, want)
	}
	if !wc.SendResolved() {
		t.Errorf("%s: send_resolved is false", amFile)
	}
}

// ---------------------------------------------------------------------------
// Alertmanager

// loadAlertmanager loads a configuration with Alertmanager's own loader
// (strict decoding and Alertmanager's validation). config.Load does not open
// the files a configuration names; credentials_file is read per request.
func loadAlertmanager(t *testing.T, file string) *amconfig.Config {
	t.Helper()
	cfg, err := amconfig.Load(readFile(t, file))
	if err != nil {
		t.Fatalf("Alertmanager rejects %s: %v", file, err)
	}
	return cfg
}

// onlyWebhook returns the single webhook config of the route's receiver.
func onlyWebhook(t *testing.T, cfg *amconfig.Config) *webhook.WebhookConfig {
	t.Helper()
	for _, r := range cfg.Receivers {
		if r.Name != cfg.Route.Receiver {
			continue
		}
		if len(r.WebhookConfigs) != 1 {
			t.Fatalf("receiver %q has %d webhook_configs, want 1", r.Name, len(r.WebhookConfigs))
		}
		return r.WebhookConfigs[0]
	}
	t.Fatalf("route receiver %q is not defined", cfg.Route.Receiver)
	return nil
}

// ---------------------------------------------------------------------------
// Prometheus rules

type ruleFile struct {
	Groups []struct {
		Name  string `yaml:"name"`
		Rules []struct {
			Alert       string            `yaml:"alert"`
			Record      string            `yaml:"record"`
			Expr        string            `yaml:"expr"`
			For         string            `yaml:"for"`
			Labels      map[string]string `yaml:"labels"`
			Annotations map[string]string `yaml:"annotations"`
		} `yaml:"rules"`
	} `yaml:"groups"`
}

func TestPrometheusRules(t *testing.T) {
	var rf ruleFile
	decodeYAMLFile(t, rulesFile, &rf)
	if len(rf.Groups) == 0 {
		t.Fatal("no rule groups")
	}
	var alerts []string
	for _, g := range rf.Groups {
		if g.Name == "" || len(g.Rules) == 0 {
			t.Errorf("group %q: no name or no rules", g.Name)
		}
		for _, r := range g.Rules {
			where := fmt.Sprintf("group %s, alert %q", g.Name, r.Alert)
			if r.Alert == "" || r.Record != "" {
				t.Errorf("%s: want an alerting rule", where)
				continue
			}
			alerts = append(alerts, r.Alert)
			if r.For != "" {
				if _, err := model.ParseDuration(r.For); err != nil {
					t.Errorf("%s: for: %v", where, err)
				}
			}
			if s := r.Labels["severity"]; s != "critical" && s != "warning" {
				t.Errorf("%s: severity %q, want critical or warning", where, s)
			}
			for _, k := range []string{"summary", "description"} {
				v := r.Annotations[k]
				if strings.TrimSpace(v) == "" {
					t.Errorf("%s: no %s annotation", where, k)
					continue
				}
				if err := parseAlertTemplate(v); err != nil {
					t.Errorf("%s: annotation %s: %v", where, k, err)
				}
			}
			checkExpr(t, where, r.Expr)
		}
	}
	slices.Sort(alerts)
	want := []string{
		"AlertbridgeAttemptFailuresHigh", "AlertbridgeConfigReloadFailed", "AlertbridgeDeliveriesFailing",
		"AlertbridgeDown", "AlertbridgeQueueBacklog", "AlertbridgeRejectingNotifications", "AlertbridgeUnavailable",
	}
	if !slices.Equal(alerts, want) {
		t.Errorf("alerts:\n got  %q\n want %q", alerts, want)
	}
}

// parseAlertTemplate parses an annotation the way Prometheus does: Go
// text/template with $labels and $value defined, and Prometheus' template
// functions (stubbed; only their names matter for parsing).
func parseAlertTemplate(s string) error {
	stub := func(...any) string { return "" }
	funcs := template.FuncMap{}
	for _, name := range []string{
		"humanize", "humanize1024", "humanizeDuration", "humanizePercentage", "humanizeTimestamp",
		"query", "first", "label", "value", "strvalue", "args", "reReplaceAll", "safeHtml", "match",
		"title", "toUpper", "toLower", "graphLink", "tableLink", "sortByLabel", "stripPort",
		"stripDomain", "externalURL", "pathPrefix", "parseDuration", "toTime", "urlQueryEscape",
	} {
		funcs[name] = stub
	}
	_, err := template.New("").Funcs(funcs).Option("missingkey=zero").
		Parse("{{$labels := .Labels}}{{$externalLabels := .ExternalLabels}}{{$value := .Value}}" + s)
	return err
}

// ---------------------------------------------------------------------------
// Grafana dashboard

func TestGrafanaDashboard(t *testing.T) {
	var d struct {
		Title         string `json:"title"`
		UID           string `json:"uid"`
		SchemaVersion int    `json:"schemaVersion"`
		Templating    struct {
			List []struct {
				Name       string          `json:"name"`
				Type       string          `json:"type"`
				Query      json.RawMessage `json:"query"`
				Definition string          `json:"definition"`
				Datasource *datasourceRef  `json:"datasource"`
			} `json:"list"`
		} `json:"templating"`
		Panels []dashPanel `json:"panels"`
	}
	b, err := os.ReadFile(dashboardFile)
	if err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(&d); err != nil {
		t.Fatalf("%s: %v", dashboardFile, err)
	}
	if dec.More() {
		t.Fatalf("%s: data after the dashboard object", dashboardFile)
	}
	if d.SchemaVersion != 39 || d.Title == "" || d.UID == "" {
		t.Errorf("schemaVersion %d, title %q, uid %q", d.SchemaVersion, d.Title, d.UID)
	}

	vars := map[string]bool{}
	for _, v := range d.Templating.List {
		vars[v.Name] = true
		switch v.Type {
		case "datasource":
			if v.Name != "DS_PROMETHEUS" || string(v.Query) != `"prometheus"` {
				t.Errorf("datasource variable %q query %s, want DS_PROMETHEUS of type prometheus", v.Name, v.Query)
			}
		case "query":
			q := variableQuery(t, v.Query)
			if q != v.Definition {
				t.Errorf("variable %s: query %q and definition %q differ", v.Name, q, v.Definition)
			}
			checkDatasource(t, "variable "+v.Name, v.Datasource)
			mm := regexp.MustCompile(`^label_values\((.+),\s*[A-Za-z_][A-Za-z0-9_]*\)$`).FindStringSubmatch(q)
			if mm == nil {
				t.Errorf("variable %s: query %q is not label_values(selector, label)", v.Name, q)
				continue
			}
			checkExpr(t, "variable "+v.Name, mm[1])
		}
	}
	for _, v := range []string{"DS_PROMETHEUS", "target"} {
		if !vars[v] {
			t.Errorf("templating variable %q missing", v)
		}
	}
	for _, v := range d.Templating.List {
		if v.Name == "target" {
			if q := variableQuery(t, v.Query); q != "label_values(alertbridge_queue_depth, target)" {
				t.Errorf("variable target: query %q", q)
			}
		}
	}

	ids := map[int]bool{}
	used := map[string]bool{}
	var walk func(ps []dashPanel)
	walk = func(ps []dashPanel) {
		for _, p := range ps {
			if ids[p.ID] {
				t.Errorf("panel id %d used twice", p.ID)
			}
			ids[p.ID] = true
			if p.GridPos.W == 0 || p.GridPos.H == 0 {
				t.Errorf("panel %q: no gridPos", p.Title)
			}
			if p.Type == "row" {
				walk(p.Panels)
				continue
			}
			where := fmt.Sprintf("panel %q", p.Title)
			checkDatasource(t, where, p.Datasource)
			if len(p.Targets) == 0 {
				t.Errorf("%s: no targets", where)
			}
			for _, tg := range p.Targets {
				checkDatasource(t, where, tg.Datasource)
				for _, n := range checkExpr(t, where, tg.Expr) {
					used[n] = true
				}
				for _, v := range regexp.MustCompile(`\$\{?([A-Za-z_][A-Za-z0-9_]*)`).FindAllStringSubmatch(tg.Expr, -1) {
					if !vars[v[1]] && !strings.HasPrefix(v[1], "__") {
						t.Errorf("%s: expression uses undefined variable $%s", where, v[1])
					}
				}
			}
		}
	}
	walk(d.Panels)

	for _, n := range []string{
		"alertbridge_notifications_received_total", "alertbridge_deliveries_total",
		"alertbridge_delivery_attempt_failures_total", "alertbridge_delivery_attempt_duration_seconds_bucket",
		"alertbridge_queue_depth", "alertbridge_queue_oldest_job_age_seconds",
		"alertbridge_notifications_superseded_total", "alertbridge_config_last_reload_successful",
		"process_resident_memory_bytes",
	} {
		if !used[n] {
			t.Errorf("no panel shows %s", n)
		}
	}
	if !strings.Contains(string(b), "histogram_quantile(0.99") || !strings.Contains(string(b), "histogram_quantile(0.5") {
		t.Error("no p50/p99 histogram_quantile panel")
	}
}

type datasourceRef struct {
	Type string `json:"type"`
	UID  string `json:"uid"`
}

type dashPanel struct {
	ID         int            `json:"id"`
	Type       string         `json:"type"`
	Title      string         `json:"title"`
	Datasource *datasourceRef `json:"datasource"`
	GridPos    struct {
		X, Y, W, H int
	} `json:"gridPos"`
	Targets []struct {
		Expr       string         `json:"expr"`
		Datasource *datasourceRef `json:"datasource"`
	} `json:"targets"`
	Panels []dashPanel `json:"panels"`
}

func checkDatasource(t *testing.T, where string, ds *datasourceRef) {
	t.Helper()
	if ds == nil || ds.Type != "prometheus" || ds.UID != "${DS_PROMETHEUS}" {
		t.Errorf("%s: datasource %+v, want prometheus ${DS_PROMETHEUS}", where, ds)
	}
}

// variableQuery returns a query variable's query, which Grafana stores as a
// string or as an object with a "query" field.
func variableQuery(t *testing.T, raw json.RawMessage) string {
	t.Helper()
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var o struct {
		Query string `json:"query"`
	}
	if err := json.Unmarshal(raw, &o); err != nil {
		t.Errorf("variable query %s: %v", raw, err)
	}
	return o.Query
}

// ---------------------------------------------------------------------------
// Metric names in PromQL

var (
	stringLit   = regexp.MustCompile(`"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|` + "`[^`]*`")
	braces      = regexp.MustCompile(`\{[^{}]*\}`)
	brackets    = regexp.MustCompile(`\[[^\[\]]*\]`)
	labelLists  = regexp.MustCompile(`\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^()]*\)`)
	identifiers = regexp.MustCompile(`[A-Za-z_:][A-Za-z0-9_:]*`)
	promKeyword = map[string]bool{
		"and": true, "or": true, "unless": true, "bool": true, "offset": true, "atan2": true,
		"by": true, "without": true, "on": true, "ignoring": true, "group_left": true, "group_right": true,
		"inf": true, "nan": true,
	}
)

// metricNames returns the metric names a PromQL expression selects. It is
// not a PromQL parser: it drops strings, label matchers, ranges and
// grouping label lists, then takes the identifiers that are not followed by
// "(" (functions and aggregations) and are not keywords or parts of
// numbers, durations or Grafana variables.
func metricNames(expr string) []string {
	s := stringLit.ReplaceAllString(expr, `""`)
	s = braces.ReplaceAllString(s, "{}")
	s = brackets.ReplaceAllString(s, "[]")
	s = labelLists.ReplaceAllString(s, " ")
	var names []string
	for _, m := range identifiers.FindAllStringIndex(s, -1) {
		name := s[m[0]:m[1]]
		if promKeyword[strings.ToLower(name)] {
			continue
		}
		if m[0] > 0 {
			if c := s[m[0]-1]; c == '$' || c == '.' || (c >= '0' && c <= '9') {
				continue
			}
		}
		if strings.HasPrefix(strings.TrimLeft(s[m[1]:], " \t\r\n"), "(") {
			continue
		}
		names = append(names, name)
	}
	return names
}

// checkExpr checks that expr selects at least one metric and only known
// ones, and returns the names.
func checkExpr(t *testing.T, where, expr string) []string {
	t.Helper()
	names := metricNames(expr)
	if len(names) == 0 {
		t.Errorf("%s: no metric name found in %q", where, expr)
	}
	for _, n := range names {
		if !knownMetrics[n] {
			t.Errorf("%s: unknown metric %q in %q", where, n, expr)
		}
	}
	if strings.Count(expr, "(") != strings.Count(expr, ")") {
		t.Errorf("%s: unbalanced parentheses in %q", where, expr)
	}
	return names
}

func TestMetricNames(t *testing.T) {
	for expr, want := range map[string][]string{
		`up{job="alertbridge"} == 0 or absent(up{job="alertbridge"})`:                                       {"up", "up"},
		`sum by (target, result) (rate(alertbridge_deliveries_total{target=~"$target"}[$__rate_interval]))`: {"alertbridge_deliveries_total"},
		`histogram_quantile(0.99, sum(rate(a_bucket[5m])) by (le))`:                                         {"a_bucket"},
		`time() - max(x_seconds offset 5m) > 1e3`:                                                           {"x_seconds"},
		`a / on(instance) group_left(version) b{c="d(e"}`:                                                   {"a", "b"},
	} {
		if got := metricNames(expr); !slices.Equal(got, want) {
			t.Errorf("metricNames(%q) = %q, want %q", expr, got, want)
		}
	}
}

// TestKnownMetricsExist checks the list above against the metrics the
// bridge registers (bridge/metrics), so a renamed metric fails here rather
// than in a silent dashboard panel. Nothing is started: the registry is
// built and read directly.
func TestKnownMetricsExist(t *testing.T) {
	m := metrics.New(func() []metrics.LaneStats { return []metrics.LaneStats{{Target: "t"}} })
	exported := map[string]bool{}
	// Vectors without children are not gathered; describe them instead.
	v := reflect.ValueOf(m).Elem()
	for i := range v.NumField() {
		c, ok := v.Field(i).Interface().(prometheus.Collector)
		if _, isRegistry := c.(*prometheus.Registry); !ok || isRegistry || v.Field(i).IsNil() {
			continue
		}
		_, isHist := c.(*prometheus.HistogramVec)
		ch := make(chan *prometheus.Desc)
		go func() { c.Describe(ch); close(ch) }()
		for d := range ch {
			name := descName(t, d)
			if isHist {
				for _, s := range []string{"_bucket", "_count", "_sum"} {
					exported[name+s] = true
				}
			} else {
				exported[name] = true
			}
		}
	}
	mfs, err := m.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		exported[mf.GetName()] = true
	}
	for n := range knownMetrics {
		switch {
		case n == "up":
			continue // Prometheus adds it
		case strings.HasPrefix(n, "process_") && runtime.GOOS != "linux":
			continue // the process collector reads /proc
		}
		if !exported[n] {
			t.Errorf("%s is not exported by bridge/metrics", n)
		}
	}
}

// descName extracts fqName from a Desc's String form:
// Desc{fqName: "name", help: ..., ...}.
func descName(t *testing.T, d *prometheus.Desc) string {
	t.Helper()
	mm := regexp.MustCompile(`fqName: ("(?:[^"\\]|\\.)*")`).FindStringSubmatch(d.String())
	if mm == nil {
		t.Fatalf("cannot read the name of %s", d)
	}
	name, err := strconv.Unquote(mm[1])
	if err != nil {
		t.Fatal(err)
	}
	return name
}

// ---------------------------------------------------------------------------
// helpers

func readFile(t *testing.T, file string) string {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func decodeYAMLFile(t *testing.T, file string, v any) {
	t.Helper()
	if err := yaml.Unmarshal([]byte(readFile(t, file)), v); err != nil {
		t.Fatalf("%s: %v", file, err)
	}
}

func resolveIn(dir, p string) string {
	if filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(dir, p)
}
