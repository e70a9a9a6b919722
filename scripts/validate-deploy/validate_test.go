package main

import (
	"encoding/base64"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
)

// The manifests users apply must pass; if they did not, CI would say which field is wrong.
func TestDeployManifestsAreValid(t *testing.T) {
	dirs, err := Targets(filepath.Join("..", "..", "deploy"))
	if err != nil {
		t.Fatal(err)
	}
	if len(dirs) < 2 {
		t.Fatalf("expected the base and at least one overlay under deploy/, found %v", dirs)
	}
	for _, dir := range dirs {
		objs, problems := ValidateDir(dir)
		if len(problems) > 0 {
			t.Errorf("%s: %s", dir, strings.Join(problems, "\n"))
		}
		if len(objs) == 0 {
			t.Errorf("%s rendered no objects", dir)
		}
	}
}

// Every component renders and passes on top of the base, as an overlay that adds it would, so a
// component no example overlay uses (lane-seed-masked) is checked too.
func TestComponentsAreValidOnTheBase(t *testing.T) {
	root := filepath.Join("..", "..", "deploy")
	comps, err := Components(root)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]bool{"aws-irsa": false, "lane-gc": false, "lane-seed-masked": false}
	for _, comp := range comps {
		want[filepath.Base(comp)] = true
		objs, problems := ValidateComponent(filepath.Join(root, "base"), comp)
		if len(problems) > 0 {
			t.Errorf("%s: %s", comp, strings.Join(problems, "\n"))
		}
		if len(objs) == 0 {
			t.Errorf("%s rendered no objects", comp)
		}
	}
	for name, found := range want {
		if !found {
			t.Errorf("component %s not found under deploy/components", name)
		}
	}
}

// The masked lane seed: restore --policy from the mounted ConfigMap, the key only from a required
// Secret, as KBAK_MASK_KEY (the variable the example policy names).
func TestMaskedLaneSeedJob(t *testing.T) {
	root := filepath.Join("..", "..", "deploy")
	objs, problems := ValidateComponent(filepath.Join(root, "base"), filepath.Join(root, "components", "lane-seed-masked"))
	if len(problems) > 0 {
		t.Fatal(strings.Join(problems, "\n"))
	}
	var job *batchv1.Job
	configMaps := map[string]*corev1.ConfigMap{}
	for _, o := range objs {
		switch v := o.Obj.(type) {
		case *batchv1.Job:
			job = v
		case *corev1.ConfigMap:
			configMaps[v.Name] = v
		}
	}
	if job == nil || job.Name != "kbak-lane-seed-masked" {
		t.Fatalf("no Job kbak-lane-seed-masked rendered: %v", objs)
	}
	c := job.Spec.Template.Spec.Containers[0]
	args := strings.Join(c.Args, " ")
	for _, want := range []string{"restore --lane $(LANE)", "--policy /policy/seed-policy.yaml", "--from $(FROM)"} {
		if !strings.Contains(args, want) {
			t.Errorf("args %q lack %q", args, want)
		}
	}
	var key *corev1.EnvVar
	for i := range c.Env {
		if c.Env[i].Name == "KBAK_MASK_KEY" {
			key = &c.Env[i]
		}
	}
	if key == nil || key.Value != "" || key.ValueFrom == nil || key.ValueFrom.SecretKeyRef == nil {
		t.Fatalf("KBAK_MASK_KEY must come from a secretKeyRef, got %+v", key)
	}
	if ref := key.ValueFrom.SecretKeyRef; ref.Name != "kbak-mask-key" || ref.Key != "KBAK_MASK_KEY" || optional(ref.Optional) {
		t.Errorf("KBAK_MASK_KEY must be the required key KBAK_MASK_KEY of Secret kbak-mask-key, got %+v", ref)
	}
	// The policy: mounted at /policy from the generated ConfigMap, whose file names the key's variable.
	var policyCM string
	for _, v := range job.Spec.Template.Spec.Volumes {
		for _, m := range c.VolumeMounts {
			if m.Name == v.Name && m.MountPath == "/policy" && v.ConfigMap != nil {
				policyCM = v.ConfigMap.Name
			}
		}
	}
	cm := configMaps[policyCM]
	if cm == nil {
		t.Fatalf("no ConfigMap mounted at /policy (volume ConfigMap %q)", policyCM)
	}
	if !strings.Contains(cm.Data["seed-policy.yaml"], "key: { env: KBAK_MASK_KEY, encoding: base64 }") {
		t.Errorf("the mounted policy does not name KBAK_MASK_KEY:\n%s", cm.Data["seed-policy.yaml"])
	}
}

// The example Secret shows the shape only: it decodes strictly as a Secret, its value is a
// placeholder kbak refuses as a key (neither base64 nor hex of 32 bytes or more), and no
// kustomization renders it (Policy refuses a rendered Secret).
func TestMaskKeyExampleSecretHoldsNoKey(t *testing.T) {
	path := filepath.Join("..", "..", "deploy", "components", "lane-seed-masked", "secret-mask-key.example.yaml")
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	o, err := Decode(raw)
	if err != nil {
		t.Fatal(err)
	}
	secret, ok := o.Obj.(*corev1.Secret)
	if !ok || secret.Name != "kbak-mask-key" {
		t.Fatalf("expected Secret kbak-mask-key, got %s/%s", o.Kind, o.Name)
	}
	value, ok := secret.StringData["KBAK_MASK_KEY"]
	if !ok || len(secret.StringData) != 1 || len(secret.Data) != 0 {
		t.Fatalf("expected exactly stringData.KBAK_MASK_KEY, got %v keys", len(secret.StringData)+len(secret.Data))
	}
	compact := strings.Join(strings.Fields(value), "")
	if b, err := base64.StdEncoding.DecodeString(compact); err == nil && len(b) >= 32 {
		t.Errorf("the example's KBAK_MASK_KEY decodes as a %d-byte base64 key: it must be a placeholder", len(b))
	}
	if b, err := hex.DecodeString(compact); err == nil && len(b) >= 32 {
		t.Errorf("the example's KBAK_MASK_KEY decodes as a %d-byte hex key: it must be a placeholder", len(b))
	}
	if !strings.Contains(value, "openssl rand -base64 32") {
		t.Errorf("the placeholder should say how to make a key, got %q", value)
	}
}

func TestValidFixturePasses(t *testing.T) {
	objs, problems := ValidateDir(filepath.Join("testdata", "valid"))
	if len(problems) > 0 {
		t.Fatalf("the unbroken fixture must pass (else the cases below prove nothing): %v", problems)
	}
	if len(objs) != 5 {
		t.Fatalf("expected ServiceAccount, CronJob, Job and two ConfigMaps, got %d objects", len(objs))
	}
}

// Each case breaks a copy of testdata/valid in one place; the validator must reject it and say why.
func TestBrokenManifestsAreRejected(t *testing.T) {
	cases := []struct {
		name, old, new, want string
	}{
		{"unknown field (a typo kubectl would silently drop with --validate=false)",
			"readOnlyRootFilesystem: true", "readOnlyRootFileSystem: true",
			`unknown field "spec.jobTemplate.spec.template.spec.containers[0].securityContext.readOnlyRootFileSystem"`},
		{"duplicate field", "concurrencyPolicy: Forbid", "concurrencyPolicy: Forbid\n  concurrencyPolicy: Allow",
			`mapping key "concurrencyPolicy" already defined`},
		{"wrong type", "backoffLimit: 2", `backoffLimit: "two"`, "backoffLimit"},
		{"bad quantity", "memory: 512Mi", "memory: lots", "quantities must match"},
		{"API version Kubernetes no longer serves", "apiVersion: batch/v1\nkind: CronJob", "apiVersion: batch/v1beta1\nkind: CronJob",
			`no kind "CronJob" is registered for version "batch/v1beta1"`},
		{"overlapping runs allowed", "concurrencyPolicy: Forbid", "concurrencyPolicy: Allow", "concurrencyPolicy must be Forbid"},
		{"no backoff limit", "backoffLimit: 2\n      ", "", "backoffLimit must be set"},
		{"writable root filesystem", "readOnlyRootFilesystem: true", "readOnlyRootFilesystem: false", "readOnlyRootFilesystem must be true"},
		{"capabilities kept", "drop: [ALL]", "drop: [NET_RAW]", "capabilities.drop must contain ALL"},
		{"no seccomp profile", "type: RuntimeDefault", "type: Unconfined", "seccompProfile.type must be RuntimeDefault"},
		{"may run as root", "runAsNonRoot: true", "runAsNonRoot: false", "runAsNonRoot must be true"},
		{"no memory limit", "limits:\n                  memory: 512Mi", "limits: {}", "resources.limits.memory must be set"},
		{"latest image", "image: kbak:0.1.0", "image: kbak:latest", "must name a tag or digest other than latest"},
		{"dangling ConfigMap key", "key: topics-regex", "key: topic-regex", `names key "topic-regex", which ConfigMap`},
		{"dangling ConfigMap", "- configMapRef:\n                    name: settings", "- configMapRef:\n                    name: setings",
			`envFrom names ConfigMap "setings"`},
		{"unresolvable $(VAR) in args", "args: [dump, --topics-regex, $(TOPICS)]", "args: [dump, --topics-regex, $(TOPIC)]",
			"args reference $(TOPIC), which no env entry or envFrom ConfigMap defines"},
		{"missing ServiceAccount", "serviceAccountName: kbak", "serviceAccountName: backup", `serviceAccountName "backup" is not a ServiceAccount`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := brokenCopy(t, "job.yaml", c.old, c.new)
			_, problems := ValidateDir(dir)
			all := strings.Join(problems, "\n")
			if !strings.Contains(all, c.want) {
				t.Fatalf("expected a problem containing %q, got:\n%s", c.want, all)
			}
		})
	}
}

// The same for the fixture's Job (seed.yaml): the rules of a one-off Job such as the masked lane seed.
func TestBrokenJobsAreRejected(t *testing.T) {
	cases := []struct {
		name, old, new, want string
	}{
		{"no backoff limit", "backoffLimit: 1\n  ", "", "Job/seed: spec.backoffLimit must be set"},
		{"no deadline", "activeDeadlineSeconds: 3600\n  ", "", "Job/seed: spec.activeDeadlineSeconds must be set"},
		{"dangling policy ConfigMap", "name: seed-policy", "name: seed-polcy", `volume policy names ConfigMap "seed-polcy"`},
		{"the masking key optional", "key: KBAK_MASK_KEY", "key: KBAK_MASK_KEY\n                  optional: true",
			"env KBAK_MASK_KEY is an optional secretKeyRef"},
		{"unresolvable $(VAR) in args", "$(LANE)", "$(LANES)", "args reference $(LANES)"},
		{"writable root filesystem", "readOnlyRootFilesystem: true", "readOnlyRootFilesystem: false", "Job/seed container kbak: securityContext.readOnlyRootFilesystem"},
		{"no memory limit", "limits:\n              memory: 512Mi", "limits: {}", "Job/seed container kbak: resources.limits.memory must be set"},
		{"a Secret in the manifests", "apiVersion: batch/v1\nkind: Job", "apiVersion: v1\nkind: Secret\nmetadata:\n  name: mask-key\nstringData:\n  KBAK_MASK_KEY: x\n---\napiVersion: batch/v1\nkind: Job",
			"Secret/mask-key: a Secret is never part of the manifests"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := brokenCopy(t, "seed.yaml", c.old, c.new)
			_, problems := ValidateDir(dir)
			all := strings.Join(problems, "\n")
			if !strings.Contains(all, c.want) {
				t.Fatalf("expected a problem containing %q, got:\n%s", c.want, all)
			}
		})
	}
}

func brokenCopy(t *testing.T, file, old, new string) string {
	t.Helper()
	dir := t.TempDir()
	for _, name := range []string{"kustomization.yaml", "job.yaml", "seed.yaml"} {
		raw, err := os.ReadFile(filepath.Join("testdata", "valid", name))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), raw, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	path := filepath.Join(dir, file)
	raw, _ := os.ReadFile(path)
	if strings.Count(string(raw), old) != 1 {
		t.Fatalf("fixture must contain %q exactly once", old)
	}
	if err := os.WriteFile(path, []byte(strings.Replace(string(raw), old, new, 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}
