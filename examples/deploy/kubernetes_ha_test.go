package deploy_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/model"
	"go.yaml.in/yaml/v3"

	"github.com/alertbridge/alertbridge/bridge"
	"github.com/alertbridge/alertbridge/bridge/server"
)

// The replicated setup in kubernetes-ha/: alertbridge replicas on a NATS
// JetStream cluster that the official NATS Helm chart runs. The manifests
// are checked as the sidecar's are; the NATS values are checked against
// what the bridge configuration expects of the cluster (its size, the
// names of its pods, the account and the password the bridges present).
const (
	haDir           = "kubernetes-ha"
	haKustomization = haDir + "/kustomization.yaml"
	haNATSValues    = haDir + "/nats-values.yaml"
	haAlertmanager  = haDir + "/alertmanager.yml"
	haReadme        = haDir + "/README.md"
)

type kustomization struct {
	APIVersion string   `yaml:"apiVersion"`
	Kind       string   `yaml:"kind"`
	Namespace  string   `yaml:"namespace"`
	Resources  []string `yaml:"resources"`
}

func loadKustomization(t *testing.T) kustomization {
	t.Helper()
	var k kustomization
	decodeYAMLFile(t, haKustomization, &k)
	return k
}

// loadHA reads the manifests kustomization.yaml lists, as kubectl apply -k
// would.
func loadHA(t *testing.T) *manifest {
	t.Helper()
	var files []string
	for _, r := range loadKustomization(t).Resources {
		files = append(files, filepath.Join(haDir, r))
	}
	return loadManifestFiles(t, haDir, files...)
}

// natsValues is the part of nats-values.yaml the tests read (the chart's
// 1.x layout).
type natsValues struct {
	Config struct {
		Cluster struct {
			Enabled  bool `yaml:"enabled"`
			Replicas int  `yaml:"replicas"`
		} `yaml:"cluster"`
		JetStream struct {
			Enabled   bool `yaml:"enabled"`
			FileStore struct {
				Enabled *bool  `yaml:"enabled"`
				Dir     string `yaml:"dir"`
				PVC     struct {
					Enabled *bool  `yaml:"enabled"`
					Size    string `yaml:"size"`
				} `yaml:"pvc"`
			} `yaml:"fileStore"`
			Merge map[string]any `yaml:"merge"`
		} `yaml:"jetstream"`
		Merge struct {
			MaxPayload string `yaml:"max_payload"`
			Accounts   map[string]struct {
				JetStream string `yaml:"jetstream"`
				Users     []struct {
					User     string `yaml:"user"`
					Password string `yaml:"password"`
				} `yaml:"users"`
			} `yaml:"accounts"`
		} `yaml:"merge"`
	} `yaml:"config"`
	Container struct {
		Env map[string]struct {
			ValueFrom struct {
				SecretKeyRef struct {
					Name string `yaml:"name"`
					Key  string `yaml:"key"`
				} `yaml:"secretKeyRef"`
			} `yaml:"valueFrom"`
		} `yaml:"env"`
	} `yaml:"container"`
}

func loadNATSValues(t *testing.T) natsValues {
	t.Helper()
	var v natsValues
	decodeYAMLFile(t, haNATSValues, &v)
	return v
}

// haInstall returns the Helm release name and namespace README.md installs
// NATS with (helm install <release> nats/nats -n <namespace> -f nats-values.yaml).
func haInstall(t *testing.T) (release, namespace string) {
	t.Helper()
	m := regexp.MustCompile(`helm install (\S+) nats/nats -n (\S+) -f nats-values\.yaml`).FindStringSubmatch(readFile(t, haReadme))
	if m == nil {
		t.Fatalf("%s: no `helm install <release> nats/nats -n <namespace> -f nats-values.yaml`", haReadme)
	}
	return m[1], m[2]
}

func TestKubernetesHAKustomization(t *testing.T) {
	k := loadKustomization(t)
	if k.APIVersion != "kustomize.config.k8s.io/v1beta1" || k.Kind != "Kustomization" {
		t.Errorf("%s: apiVersion %q kind %q", haKustomization, k.APIVersion, k.Kind)
	}
	_, ns := haInstall(t)
	if k.Namespace != ns {
		t.Errorf("%s: namespace %q, but NATS is installed in %q; the short NATS names would not resolve", haKustomization, k.Namespace, ns)
	}
	// Every manifest of the folder is listed; the Helm values, the
	// Alertmanager snippet and the kustomization itself are not manifests.
	entries, err := os.ReadDir(haDir)
	if err != nil {
		t.Fatal(err)
	}
	var manifests []string
	for _, e := range entries {
		switch n := e.Name(); {
		case n == "kustomization.yaml", n == "nats-values.yaml", filepath.Ext(n) != ".yaml":
		default:
			manifests = append(manifests, n)
		}
	}
	if got := slices.Sorted(slices.Values(k.Resources)); !slices.Equal(got, manifests) {
		t.Errorf("%s: resources %q, want the folder's manifests %q", haKustomization, got, manifests)
	}
}

func TestKubernetesHAManifests(t *testing.T) {
	m := loadHA(t)
	m.checkObjects(t, []string{
		"ConfigMap/alertbridge-config",
		"Deployment/alertbridge",
		"PodDisruptionBudget/alertbridge",
		"Secret/alertbridge-secrets",
		"Service/alertbridge",
	}, map[string]string{
		"ConfigMap": "v1", "Secret": "v1", "Service": "v1",
		"Deployment": "apps/v1", "PodDisruptionBudget": "policy/v1",
	})
	if strings.TrimSpace(m.get(t, "ConfigMap", "alertbridge-config").Data["alertbridge.yml"]) == "" {
		t.Error("ConfigMap alertbridge-config: data[alertbridge.yml] is empty")
	}
	sec := m.get(t, "Secret", "alertbridge-secrets")
	for _, k := range []string{"webhook-url", "inbound-token", "nats-password"} {
		if strings.TrimSpace(sec.StringData[k]) == "" {
			t.Errorf("Secret alertbridge-secrets: stringData[%q] is empty", k)
		}
	}
}

func TestKubernetesHADeployment(t *testing.T) {
	m := loadHA(t)
	dep := m.get(t, "Deployment", "alertbridge")
	pod := &dep.Spec.Template.Spec
	labels := dep.Spec.Template.Metadata.Labels

	if dep.Spec.Replicas == nil || *dep.Spec.Replicas < 3 {
		t.Errorf("Deployment alertbridge: replicas %v, want at least 3", dep.Spec.Replicas)
	}
	checkSelects(t, "Deployment alertbridge", matchLabels(t, &dep.Spec.Selector), labels)
	// An update starts the new pod before it stops an old one.
	if ru := dep.Spec.Strategy.RollingUpdate; ru.MaxUnavailable != 0 || ru.MaxSurge == nil {
		t.Errorf("Deployment alertbridge: rolling update maxUnavailable %v maxSurge %v, want 0 and a surge", ru.MaxUnavailable, ru.MaxSurge)
	}

	ab := findContainer(t, pod, "alertbridge")
	if !strings.HasPrefix(ab.Image, "ghcr.io/alertbridge/alertbridge:") {
		t.Errorf("alertbridge image %q", ab.Image)
	}
	flags := parseFlags(t, ab.Args)
	known := bridgeFlags(t)
	for name := range flags {
		if !known[name] {
			t.Errorf("alertbridge: unknown flag --%s", name)
		}
	}
	if flags["config.file"] != "/etc/alertbridge/alertbridge.yml" || flags["web.listen-address"] != ":9097" {
		t.Errorf("alertbridge: --config.file=%q --web.listen-address=%q", flags["config.file"], flags["web.listen-address"])
	}

	shutdown, err := time.ParseDuration(flags["shutdown.timeout"])
	if err != nil {
		t.Fatalf("alertbridge: --shutdown.timeout: %v", err)
	}
	if pod.TerminationGracePeriodSeconds == nil {
		t.Fatal("terminationGracePeriodSeconds is not set")
	}
	if grace := time.Duration(*pod.TerminationGracePeriodSeconds) * time.Second; grace < shutdown+5*time.Second {
		t.Errorf("terminationGracePeriodSeconds %v leaves less than 5s beyond --shutdown.timeout=%v", grace, shutdown)
	}

	if port := containerPort(t, ab, "http"); port != 9097 {
		t.Errorf("alertbridge container port %d, want 9097", port)
	}
	checkProbe(t, ab, "startup", ab.StartupProbe, "/-/healthy", 9097)
	checkProbe(t, ab, "readiness", ab.ReadinessProbe, "/-/ready", 9097)
	checkProbe(t, ab, "liveness", ab.LivenessProbe, "/-/healthy", 9097)

	sc := effectiveSecurity(pod.SecurityContext, ab.SecurityContext)
	if sc.RunAsNonRoot == nil || !*sc.RunAsNonRoot || sc.RunAsUser == nil || *sc.RunAsUser != 65532 {
		t.Error("alertbridge: not runAsNonRoot as 65532")
	}
	if ab.SecurityContext == nil || ab.SecurityContext.ReadOnlyRootFilesystem == nil || !*ab.SecurityContext.ReadOnlyRootFilesystem {
		t.Error("alertbridge: readOnlyRootFilesystem is not true")
	}
	if ab.Resources.Limits["memory"] == "" || ab.Resources.Requests["memory"] == "" || ab.Resources.Requests["cpu"] == "" {
		t.Error("alertbridge: resources lack a memory limit or requests")
	}
	if ab.Resources.Limits["cpu"] != "" {
		t.Error("alertbridge: a CPU limit would throttle acknowledgements to Alertmanager")
	}

	// Mounts: each has a volume, none uses subPath. No replica keeps state
	// of its own, so no claim: --storage.path, when given, is an emptyDir.
	for _, vm := range ab.VolumeMounts {
		v := findVolume(pod, vm.Name)
		if v == nil {
			t.Errorf("alertbridge: volumeMount %q has no volume", vm.Name)
			continue
		}
		if vm.SubPath != "" {
			t.Errorf("alertbridge: volumeMount %q uses subPath; the kubelet would never update it", vm.Name)
		}
		if v.PersistentVolumeClaim != nil {
			t.Errorf("alertbridge: volume %q is a claim; the replicas of a Deployment would share it", vm.Name)
		}
		if vm.MountPath == flags["storage.path"] && (v.EmptyDir == nil || vm.ReadOnly) {
			t.Errorf("alertbridge: --storage.path is on volume %q, which is not a writable emptyDir", vm.Name)
		}
	}

	// The Service selects the pods and reaches the bridge's port; Prometheus
	// scrapes every pod behind it.
	svc := m.get(t, "Service", "alertbridge")
	var sel map[string]string
	if err := svc.Spec.Selector.Decode(&sel); err != nil || len(sel) == 0 {
		t.Fatalf("Service alertbridge: selector: %v", err)
	}
	checkSelects(t, "Service alertbridge", sel, labels)
	if len(svc.Spec.Ports) != 1 || svc.Spec.Ports[0].Port != 9097 || servicePortTarget(t, ab, svc.Spec.Ports[0]) != 9097 {
		t.Errorf("Service alertbridge ports %+v, want 9097 to the container's 9097", svc.Spec.Ports)
	}
	if a := svc.Metadata.Annotations; a["prometheus.io/scrape"] != "true" || a["prometheus.io/port"] != "9097" {
		t.Errorf("Service alertbridge annotations %v: want prometheus.io/scrape=true, prometheus.io/port=9097", a)
	}

	// The budget lets a drain evict one replica at a time, and never blocks.
	pdb := m.get(t, "PodDisruptionBudget", "alertbridge")
	checkSelects(t, "PodDisruptionBudget alertbridge", matchLabels(t, &pdb.Spec.Selector), labels)
	if pdb.Spec.MinAvailable != nil || pdb.Spec.MaxUnavailable != 1 {
		t.Errorf("PodDisruptionBudget alertbridge: maxUnavailable %v minAvailable %v, want maxUnavailable 1 only", pdb.Spec.MaxUnavailable, pdb.Spec.MinAvailable)
	}
}

// TestKubernetesHAAlertbridgeConfig lays out the mounted files as the
// kubelet would and checks the storage section against the NATS values:
// the URLs name the chart's pods, the replicas fit the cluster, the user
// is the account's, and the password file holds what the servers expect.
// Then the whole file goes through check-config.
func TestKubernetesHAAlertbridgeConfig(t *testing.T) {
	m := loadHA(t)
	pod := &m.get(t, "Deployment", "alertbridge").Spec.Template.Spec
	ab := findContainer(t, pod, "alertbridge")
	root := materialize(t, m, pod, ab)
	cfgFile := filepath.Join(root, parseFlags(t, ab.Args)["config.file"])
	reroot(t, cfgFile, root)

	var cfg struct {
		Inbound struct {
			BearerTokenFile string `yaml:"bearer_token_file"`
		} `yaml:"inbound"`
		Storage struct {
			Engine string `yaml:"engine"`
			NATS   struct {
				URLs            []string `yaml:"urls"`
				CredentialsFile string   `yaml:"credentials_file"`
				NKeySeedFile    string   `yaml:"nkey_seed_file"`
				TokenFile       string   `yaml:"token_file"`
				Username        string   `yaml:"username"`
				PasswordFile    string   `yaml:"password_file"`
				Prefix          string   `yaml:"prefix"`
				Replicas        int      `yaml:"replicas"`
				ClaimTTL        string   `yaml:"claim_ttl"`
				PublishTimeout  string   `yaml:"publish_timeout"`
			} `yaml:"nats"`
		} `yaml:"storage"`
	}
	decodeYAMLFile(t, cfgFile, &cfg)
	n := cfg.Storage.NATS
	values := loadNATSValues(t)
	release, _ := haInstall(t)

	if cfg.Storage.Engine != "nats" {
		t.Fatalf("alertbridge.yml: storage.engine %q, want nats", cfg.Storage.Engine)
	}
	if cfg.Inbound.BearerTokenFile == "" {
		t.Error("alertbridge.yml: inbound.bearer_token_file is not set")
	}

	// The chart names the servers <release>-<i> behind <release>-headless,
	// with the client port 4222.
	var wantURLs []string
	for i := range values.Config.Cluster.Replicas {
		wantURLs = append(wantURLs, fmt.Sprintf("nats://%s-%d.%s-headless:4222", release, i, release))
	}
	if !slices.Equal(n.URLs, wantURLs) {
		t.Errorf("storage.nats.urls %q, want the chart's servers %q", n.URLs, wantURLs)
	}
	if n.Replicas != 3 || n.Replicas > values.Config.Cluster.Replicas {
		t.Errorf("storage.nats.replicas %d: want 3, on a cluster of %d servers", n.Replicas, values.Config.Cluster.Replicas)
	}
	if !regexp.MustCompile(`^[A-Za-z0-9_-]+$`).MatchString(n.Prefix) {
		t.Errorf("storage.nats.prefix %q is not a valid stream name", n.Prefix)
	}
	for key, v := range map[string]string{"claim_ttl": n.ClaimTTL, "publish_timeout": n.PublishTimeout} {
		if d, err := model.ParseDuration(v); err != nil || d <= 0 {
			t.Errorf("storage.nats.%s %q: want a positive duration (%v)", key, v, err)
		}
	}

	// One way to authenticate: the account's user, with the password the
	// servers read from the same Secret key.
	set := 0
	for _, v := range []string{n.CredentialsFile, n.NKeySeedFile, n.TokenFile, n.Username} {
		if v != "" {
			set++
		}
	}
	if set != 1 || n.Username == "" || n.PasswordFile == "" {
		t.Fatalf("storage.nats: want username with password_file and no other credential")
	}
	account, password := "", ""
	for name, a := range values.Config.Merge.Accounts {
		for _, u := range a.Users {
			if u.User == n.Username {
				account, password = name, u.Password
			}
		}
	}
	if account == "" {
		t.Fatalf("%s: no account has user %q", haNATSValues, n.Username)
	}
	if js := values.Config.Merge.Accounts[account].JetStream; js != "enabled" {
		t.Errorf("%s: account %s has jetstream %q, want enabled", haNATSValues, account, js)
	}
	mm := regexp.MustCompile(`^<<\s*\$([A-Za-z_][A-Za-z0-9_]*)\s*>>$`).FindStringSubmatch(password)
	if mm == nil {
		t.Fatalf("%s: user %s's password is not a variable reference (<< $NAME >>); it would sit in the values", haNATSValues, n.Username)
	}
	ref := values.Container.Env[mm[1]].ValueFrom.SecretKeyRef
	if ref.Name == "" || ref.Key == "" {
		t.Fatalf("%s: container.env.%s has no valueFrom.secretKeyRef", haNATSValues, mm[1])
	}
	serverSide := m.get(t, "Secret", ref.Name).StringData[ref.Key]
	if got := readFile(t, n.PasswordFile); strings.TrimSpace(got) != strings.TrimSpace(serverSide) || strings.TrimSpace(got) == "" {
		t.Errorf("storage.nats.password_file does not hold Secret %s key %s, which the NATS servers check", ref.Name, ref.Key)
	}

	// Every *_file the configuration names is provided by the mounts.
	var doc yaml.Node
	if err := yaml.Unmarshal([]byte(readFile(t, cfgFile)), &doc); err != nil {
		t.Fatal(err)
	}
	for _, f := range fileKeys(&doc) {
		if _, err := os.Stat(resolveIn(filepath.Dir(cfgFile), f)); err != nil {
			t.Errorf("alertbridge.yml names %s, which the mounts do not provide: %v", f, err)
		}
	}

	if errs := bridge.CheckConfig(cfgFile); len(errs) > 0 {
		t.Errorf("check-config %s (from ConfigMap alertbridge-config):\n%v", haDir, errors.Join(errs...))
	}
}

// TestKubernetesHAAlertmanagerConfig loads the Alertmanager snippet with
// Alertmanager's own loader: it posts to the Service, in the namespace the
// kustomization uses, with the bearer token.
func TestKubernetesHAAlertmanagerConfig(t *testing.T) {
	m := loadHA(t)
	svc := m.get(t, "Service", "alertbridge")
	cfg := loadAlertmanager(t, haAlertmanager)
	wc := onlyWebhook(t, cfg)
	want := fmt.Sprintf("http://%s.%s.svc:%d/webhook", svc.Metadata.Name, loadKustomization(t).Namespace, svc.Spec.Ports[0].Port)
	if got := string(wc.URL); got != want {
		t.Errorf("%s: webhook url %q, want %q", haAlertmanager, got, want)
	}
	if !wc.SendResolved() {
		t.Errorf("%s: send_resolved is false", haAlertmanager)
	}
	if wc.HTTPConfig == nil || wc.HTTPConfig.Authorization == nil || !filepath.IsAbs(wc.HTTPConfig.Authorization.CredentialsFile) {
		t.Errorf("%s: no http_config.authorization with an absolute credentials_file", haAlertmanager)
	}
}

// TestKubernetesHANATSValues checks the values for the NATS chart: a
// cluster of an odd number of servers (at least 3), JetStream on a volume
// per server, a deliberate sync_interval, and a payload limit that takes
// the largest webhook body the bridge accepts.
func TestKubernetesHANATSValues(t *testing.T) {
	v := loadNATSValues(t)
	c := v.Config
	if !c.Cluster.Enabled || c.Cluster.Replicas < 3 || c.Cluster.Replicas%2 == 0 {
		t.Errorf("config.cluster: enabled %v, replicas %d; want an enabled cluster of an odd number (3 or more)", c.Cluster.Enabled, c.Cluster.Replicas)
	}
	js := c.JetStream
	if !js.Enabled {
		t.Error("config.jetstream.enabled is not true")
	}
	fs := js.FileStore
	if fs.Enabled == nil || !*fs.Enabled || fs.PVC.Enabled == nil || !*fs.PVC.Enabled || fs.PVC.Size == "" {
		t.Error("config.jetstream.fileStore: want enabled, with pvc.enabled and pvc.size set")
	}

	// sync_interval is set on purpose: "always" or a duration, with a
	// comment that says why.
	si, ok := js.Merge["sync_interval"].(string)
	if !ok {
		t.Fatal("config.jetstream.merge.sync_interval is not set")
	}
	if _, err := model.ParseDuration(si); si != "always" && err != nil {
		t.Errorf("config.jetstream.merge.sync_interval %q: want always or a duration", si)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal([]byte(readFile(t, haNATSValues)), &doc); err != nil {
		t.Fatal(err)
	}
	if k := mappingKey(&doc, "config", "jetstream", "merge", "sync_interval"); k == nil || strings.TrimSpace(k.HeadComment) == "" {
		t.Error("config.jetstream.merge.sync_interval has no comment above it")
	}

	// A webhook body of the largest accepted size must fit in one message,
	// with room for the headers.
	if limit := natsSize(t, c.Merge.MaxPayload); limit <= server.DefaultMaxBodyBytes {
		t.Errorf("config.merge.max_payload %q (%d bytes) does not exceed the webhook body limit (%d bytes)", c.Merge.MaxPayload, limit, server.DefaultMaxBodyBytes)
	}
}

// natsSize reads a NATS size in the chart's raw form, such as "<< 8MB >>".
func natsSize(t *testing.T, s string) int64 {
	t.Helper()
	m := regexp.MustCompile(`^<<\s*(\d+)\s*(KB|MB|GB)\s*>>$`).FindStringSubmatch(s)
	if m == nil {
		t.Fatalf("size %q: want << <number>KB|MB|GB >>", s)
	}
	n, err := strconv.ParseInt(m[1], 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	return n << map[string]int{"KB": 10, "MB": 20, "GB": 30}[m[2]]
}

func matchLabels(t *testing.T, selector *yaml.Node) map[string]string {
	t.Helper()
	var s struct {
		MatchLabels map[string]string `yaml:"matchLabels"`
	}
	if err := selector.Decode(&s); err != nil || len(s.MatchLabels) == 0 {
		t.Fatalf("selector without matchLabels: %v", err)
	}
	return s.MatchLabels
}

func checkSelects(t *testing.T, what string, selector, labels map[string]string) {
	t.Helper()
	for k, v := range selector {
		if labels[k] != v {
			t.Errorf("%s selects %s=%s, which the pod template does not carry", what, k, v)
		}
	}
}

// servicePortTarget resolves a Service port's targetPort (a number or a
// container port name) to a container port number.
func servicePortTarget(t *testing.T, c *container, p servicePort) int {
	t.Helper()
	switch v := p.TargetPort.(type) {
	case int:
		return v
	case string:
		return containerPort(t, c, v)
	}
	return p.Port
}

// fileKeys returns the values of the non-empty *_file keys of a YAML tree.
func fileKeys(n *yaml.Node) []string {
	var out []string
	if n.Kind == yaml.MappingNode {
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			if strings.HasSuffix(k.Value, "_file") && v.Kind == yaml.ScalarNode && v.Value != "" {
				out = append(out, v.Value)
			}
		}
	}
	for _, c := range n.Content {
		out = append(out, fileKeys(c)...)
	}
	return out
}

// mappingKey returns the key node at a path of mapping keys.
func mappingKey(n *yaml.Node, path ...string) *yaml.Node {
	if n.Kind == yaml.DocumentNode && len(n.Content) == 1 {
		n = n.Content[0]
	}
	for i, p := range path {
		if n.Kind != yaml.MappingNode {
			return nil
		}
		var next *yaml.Node
		for j := 0; j+1 < len(n.Content); j += 2 {
			if n.Content[j].Value == p {
				if i == len(path)-1 {
					return n.Content[j]
				}
				next = n.Content[j+1]
			}
		}
		if next == nil {
			return nil
		}
		n = next
	}
	return nil
}
