package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
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

func TestValidFixturePasses(t *testing.T) {
	objs, problems := ValidateDir(filepath.Join("testdata", "valid"))
	if len(problems) > 0 {
		t.Fatalf("the unbroken fixture must pass (else the cases below prove nothing): %v", problems)
	}
	if len(objs) != 3 {
		t.Fatalf("expected ServiceAccount, CronJob and ConfigMap, got %d objects", len(objs))
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
			dir := brokenCopy(t, c.old, c.new)
			_, problems := ValidateDir(dir)
			all := strings.Join(problems, "\n")
			if !strings.Contains(all, c.want) {
				t.Fatalf("expected a problem containing %q, got:\n%s", c.want, all)
			}
		})
	}
}

func brokenCopy(t *testing.T, old, new string) string {
	t.Helper()
	dir := t.TempDir()
	for _, name := range []string{"kustomization.yaml", "job.yaml"} {
		raw, err := os.ReadFile(filepath.Join("testdata", "valid", name))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), raw, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	path := filepath.Join(dir, "job.yaml")
	raw, _ := os.ReadFile(path)
	if strings.Count(string(raw), old) != 1 {
		t.Fatalf("fixture must contain %q exactly once", old)
	}
	if err := os.WriteFile(path, []byte(strings.Replace(string(raw), old, new, 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}
