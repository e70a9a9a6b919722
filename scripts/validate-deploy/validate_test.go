package main

import (
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
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
	want := map[string]bool{"aws-irsa": false, "lane-gc": false, "lane-seed-masked": false, "sharded-dump": false, "lane-seed-sharded": false}
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
	job, configMaps := jobAndConfigMaps(objs, "kbak-lane-seed-masked")
	if job == nil {
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
	if len(objs) != 7 {
		t.Fatalf("expected ServiceAccount, two CronJobs, two Jobs and two ConfigMaps, got %d objects", len(objs))
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
	for _, name := range []string{"kustomization.yaml", "job.yaml", "seed.yaml", "sharded.yaml"} {
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

// The same for the fixture's sharded CronJob and Job (sharded.yaml): the rules of an Indexed Job that
// runs kbak with --shard, and the API server's own rules for those fields.
func TestBrokenShardedJobsAreRejected(t *testing.T) {
	cases := []struct {
		name, old, new, want string
	}{
		{"not Indexed", "completionMode: Indexed\n      completions: 3", "completionMode: NonIndexed\n      completions: 3",
			"CronJob/dump-sharded: container kbak: runs kbak with --shard 3, so jobTemplate.spec.completionMode must be Indexed"},
		{"completions apart from --shard", "completions: 3", "completions: 4",
			"CronJob/dump-sharded: container kbak: jobTemplate.spec.completions must equal the shard count 3 of --shard, got 4"},
		{"parallelism apart from --shard", "parallelism: 2", "parallelism: 1",
			"Job/seed-sharded: container restorer: spec.parallelism must equal the shard count 2 of --shard, got 1"},
		{"no parallelism (defaults to 1)", "\n      parallelism: 3", "",
			"jobTemplate.spec.parallelism must equal the shard count 3 of --shard, got unset"},
		{"a fixed index in --shard", `--shard, "3"`, "--shard, 1/3", `--shard "1/3" must be the shard count alone`},
		{"no per-index backoff limit", "backoffLimitPerIndex: 2\n      maxFailedIndexes: 0\n      activeDeadlineSeconds: 7200",
			"backoffLimit: 2\n      activeDeadlineSeconds: 7200", "jobTemplate.spec.backoffLimitPerIndex must be set"},
		{"a job-wide limit that ends the other shards' retries", "backoffLimit: 4", "backoffLimit: 3",
			"spec.backoffLimit 3 is below completions × backoffLimitPerIndex (4)"},
		{"failed shards tolerated", "maxFailedIndexes: 0\n  activeDeadlineSeconds: 3600", "maxFailedIndexes: 1\n  activeDeadlineSeconds: 3600",
			"spec.maxFailedIndexes must be 0"},
		{"maxFailedIndexes above completions (the API server's rule)", "maxFailedIndexes: 0\n      activeDeadlineSeconds: 7200",
			"maxFailedIndexes: 5\n      activeDeadlineSeconds: 7200", "jobTemplate.spec.maxFailedIndexes 5 is above completions 3"},
		{"no pod failure policy", "  podFailurePolicy:\n    rules:\n      - action: Ignore\n        onPodConditions:\n          - type: DisruptionTarget\n      - action: FailIndex\n        onExitCodes:\n          operator: In\n          values: [2, 3, 5, 6]\n", "",
			"Job/seed-sharded: container restorer: spec.podFailurePolicy must be set"},
		{"a non-retriable code retried", "values: [2, 3, 5, 6]\n  template", "values: [2, 3, 6]\n  template",
			"spec.podFailurePolicy has no FailIndex rule on exit code 5"},
		{"a retriable code failed at once", "values: [2, 3, 5, 6]\n      template", "values: [2, 3, 4, 5, 6]\n      template",
			"fails on exit code 4, which a retry can cure"},
		{"exit codes out of order (the API server's rule)", "values: [2, 3, 5, 6]\n      template", "values: [2, 5, 3, 6]\n      template",
			"onExitCodes.values must be unique and in increasing order"},
		{"FailIndex for another container", "containerName: kbak", "containerName: sidecar",
			`onExitCodes.containerName "sidecar" names no container of the pod`},
		{"disruptions counted as failures", "          - type: DisruptionTarget\n      - action: FailIndex\n        onExitCodes:\n          operator",
			"          - type: ConfigIssue\n      - action: FailIndex\n        onExitCodes:\n          operator", "must Ignore the pod condition DisruptionTarget"},
		{"pod failure policy with OnFailure (the API server's rule)", "restartPolicy: Never\n          securityContext:\n            runAsNonRoot: true\n            seccompProfile:\n              type: RuntimeDefault\n          containers:\n            - name: kbak\n              image: kbak:0.1.0\n              args: [dump, --to",
			"restartPolicy: OnFailure\n          securityContext:\n            runAsNonRoot: true\n            seccompProfile:\n              type: RuntimeDefault\n          containers:\n            - name: kbak\n              image: kbak:0.1.0\n              args: [dump, --to",
			"jobTemplate.spec.podFailurePolicy needs restartPolicy Never"},
		{"shards that cannot agree on the backup ID", "fieldPath: metadata.labels['batch.kubernetes.io/job-name']", "fieldPath: metadata.name",
			"a sharded dump needs env KBAK_JOB_NAME from the downward API"},
		{"one backup ID for every night", `--plan-ttl, 12h]`, `--plan-ttl, 12h, --backup-id, 20261206T020000000Z]`,
			"--backup-id in a CronJob would give every night's run the same backup ID"},
		{"a deadline past the plan TTL", "activeDeadlineSeconds: 7200", "activeDeadlineSeconds: 43200",
			"activeDeadlineSeconds 43200 must be below the plan TTL 12h0m0s"},
		{"no --plan-ttl: kbak's default 24h is above the 2 h deadline", `--plan-ttl, 12h]`, `--json]`, ""},
		{"a plan TTL kbak cannot read", `--plan-ttl, 12h]`, `--plan-ttl, 12 hours]`, `--plan-ttl "12 hours": not a kbak duration`},
		{"a password in plain text", "- name: KBAK_JOB_NAME", "- name: KBAK_SASL_PASSWORD\n                  value: hunter2\n                - name: KBAK_JOB_NAME",
			"env KBAK_SASL_PASSWORD is a credential in plain text"},
		{"a password flag", "--shard=2]", "--shard=2, --schema-registry-password=hunter2]", "args pass --schema-registry-password on the command line"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := brokenCopy(t, "sharded.yaml", c.old, c.new)
			_, problems := ValidateDir(dir)
			all := strings.Join(problems, "\n")
			if c.want == "" {
				if len(problems) > 0 {
					t.Fatalf("expected no problem, got:\n%s", all)
				}
				return
			}
			if !strings.Contains(all, c.want) {
				t.Fatalf("expected a problem containing %q, got:\n%s", c.want, all)
			}
		})
	}
}

// A credential in a ConfigMap is plain text in the manifests and in `kubectl get -o yaml`.
func TestCredentialInConfigMapIsRejected(t *testing.T) {
	dir := brokenCopy(t, "kustomization.yaml", "- topics-regex=orders", "- topics-regex=orders\n      - AWS_SECRET_ACCESS_KEY=abc")
	_, problems := ValidateDir(dir)
	if all := strings.Join(problems, "\n"); !strings.Contains(all, "key AWS_SECRET_ACCESS_KEY is a credential in plain text") {
		t.Fatalf("expected the ConfigMap's credential to be refused, got:\n%s", all)
	}
}

// The sharded dump replaces base's nightly dump in place: one dump CronJob, now an Indexed Job of
// 4 shards, that keeps base's wiring (ConfigMaps, the Secret, ServiceAccount, resources) and takes
// the backup ID from the Job's name. On the base and on every example overlay (whose patches of
// kbak-dump must still apply).
func TestShardedDumpReplacesTheNightlyDump(t *testing.T) {
	root := filepath.Join("..", "..", "deploy")
	comp := filepath.Join(root, "components", "sharded-dump")
	for _, under := range []string{"base", filepath.Join("overlays", "aws"), filepath.Join("overlays", "s3-compatible")} {
		t.Run(under, func(t *testing.T) {
			objs, problems := ValidateComponent(filepath.Join(root, under), comp)
			if len(problems) > 0 {
				t.Fatal(strings.Join(problems, "\n"))
			}
			var dumps []*batchv1.CronJob
			for _, o := range objs {
				if cj, ok := o.Obj.(*batchv1.CronJob); ok && len(cj.Spec.JobTemplate.Spec.Template.Spec.Containers) > 0 &&
					slices.Contains(cj.Spec.JobTemplate.Spec.Template.Spec.Containers[0].Args, "dump") {
					dumps = append(dumps, cj)
				}
			}
			if len(dumps) != 1 || dumps[0].Name != "kbak-dump" {
				t.Fatalf("expected exactly one dump CronJob, kbak-dump, got %d", len(dumps))
			}
			job := dumps[0].Spec.JobTemplate.Spec
			if job.CompletionMode == nil || *job.CompletionMode != batchv1.IndexedCompletion || *job.Completions != 4 || *job.Parallelism != 4 {
				t.Errorf("expected an Indexed Job of 4 completions and parallelism 4, got %+v", job)
			}
			if job.BackoffLimit != nil {
				t.Errorf("base's job-wide backoffLimit must be removed, got %d", *job.BackoffLimit)
			}
			c := job.Template.Spec.Containers[0]
			args := strings.Join(c.Args, " ")
			for _, want := range []string{"dump --incremental --topics-regex $(TOPICS_REGEX) --to $(KBAK_DEST)", "--shard 4", "--plan-ttl 24h"} {
				if !strings.Contains(args, want) {
					t.Errorf("args %q lack %q", args, want)
				}
			}
			env := map[string]corev1.EnvVar{}
			for _, e := range c.Env {
				env[e.Name] = e
			}
			if e := env["KBAK_JOB_NAME"]; e.ValueFrom == nil || e.ValueFrom.FieldRef == nil || e.ValueFrom.FieldRef.FieldPath != jobNameField {
				t.Errorf("KBAK_JOB_NAME must come from %s, got %+v", jobNameField, e)
			}
			if _, ok := env["TOPICS_REGEX"]; !ok {
				t.Errorf("base's env (TOPICS_REGEX) must be kept, got %v", c.Env)
			}
			if len(c.EnvFrom) != 2 || c.EnvFrom[1].SecretRef == nil || c.EnvFrom[1].SecretRef.Name != "kbak-credentials" {
				t.Errorf("base's envFrom (kbak-config, Secret kbak-credentials) must be kept, got %+v", c.EnvFrom)
			}
			if req, lim := c.Resources.Requests[corev1.ResourceMemory], c.Resources.Limits[corev1.ResourceMemory]; req.String() != "256Mi" || lim.String() != "384Mi" {
				t.Errorf("expected base's measured memory request / limit 256Mi / 384Mi, got %s / %s", req.String(), lim.String())
			}
		})
	}
}

// The sharded lane seed: an Indexed Job of `kbak restore --lane --shard 4`, pinned to a backup ID,
// next to the masked seed in the same overlay without a clash of names.
func TestShardedLaneSeedJob(t *testing.T) {
	root := filepath.Join("..", "..", "deploy")
	comps := filepath.Join(root, "components")
	objs, problems := ValidateComponent(filepath.Join(root, "base"), filepath.Join(comps, "lane-seed-masked"), filepath.Join(comps, "lane-seed-sharded"))
	if len(problems) > 0 {
		t.Fatal(strings.Join(problems, "\n"))
	}
	job, configMaps := jobAndConfigMaps(objs, "kbak-lane-seed-sharded")
	if job == nil {
		t.Fatal("no Job kbak-lane-seed-sharded rendered")
	}
	if job.Spec.CompletionMode == nil || *job.Spec.CompletionMode != batchv1.IndexedCompletion || *job.Spec.Completions != 4 || *job.Spec.Parallelism != 4 {
		t.Errorf("expected an Indexed Job of 4 completions and parallelism 4, got %+v", job.Spec)
	}
	c := job.Spec.Template.Spec.Containers[0]
	args := strings.Join(c.Args, " ")
	for _, want := range []string{"restore --lane $(LANE) --from $(FROM)", "--shard 4", "--prepare-timeout $(PREPARE_TIMEOUT)"} {
		if !strings.Contains(args, want) {
			t.Errorf("args %q lack %q", args, want)
		}
	}
	var from string
	for _, e := range c.Env {
		if e.Name == "FROM" && e.ValueFrom != nil && e.ValueFrom.ConfigMapKeyRef != nil {
			if cm := configMaps[e.ValueFrom.ConfigMapKeyRef.Name]; cm != nil {
				from = cm.Data[e.ValueFrom.ConfigMapKeyRef.Key]
			}
		}
	}
	// Every shard resolves --from on its own: a backup ID, not `latest`, keeps them on one backup.
	if !regexp.MustCompile(`^[0-9]{8}T[0-9]{9}Z$`).MatchString(from) {
		t.Errorf("the seed's --from must be a backup ID, got %q", from)
	}
}

// Without --plan-ttl the deadline is held against kbak's default, 24 h.
func TestShardedDumpDeadlineAgainstTheDefaultPlanTTL(t *testing.T) {
	for _, c := range []struct {
		deadline int64
		ok       bool
	}{{86399, true}, {86400, false}} {
		var problems []string
		bad := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
		job := batchv1.JobSpec{ActiveDeadlineSeconds: &c.deadline}
		container := corev1.Container{Args: []string{"dump", "--shard", "4"}, Env: []corev1.EnvVar{{Name: "KBAK_JOB_NAME",
			ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: jobNameField}}}}}
		checkShardedDump(bad, "spec.", job, container, true)
		if got := len(problems) == 0; got != c.ok {
			t.Errorf("deadline %d s: expected ok=%v, got %v", c.deadline, c.ok, problems)
		}
	}
}

// deploy/README.md's example for another number of shards renders, passes, and changes all three.
func TestReadmeShardCountExample(t *testing.T) {
	root := filepath.Join("..", "..", "deploy")
	raw, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile("(?s)```yaml\n(components:\n  - \\.\\./\\.\\./components/sharded-dump\n.*?)```").FindSubmatch(raw)
	if m == nil {
		t.Fatal("no yaml block adding components/sharded-dump in deploy/README.md")
	}
	// The README's `../../components` is relative to deploy/overlays/<name>: the same depth here.
	dir := filepath.Join(t.TempDir(), "overlays", "prod")
	for _, d := range []string{dir, filepath.Join(dir, "..", "..", "components")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	absComp, _ := filepath.Abs(filepath.Join(root, "components", "sharded-dump"))
	if err := os.Symlink(absComp, filepath.Join(dir, "..", "..", "components", "sharded-dump")); err != nil {
		t.Fatal(err)
	}
	absBase, _ := filepath.Abs(filepath.Join(root, "base"))
	relBase, _ := filepath.Rel(dir, absBase)
	k := "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources: [" + relBase + "]\n" +
		"images: [{name: kbak, newName: registry.example.com/platform/kbak, newTag: 0.1.0}]\n" + string(m[1])
	if err := os.WriteFile(filepath.Join(dir, "kustomization.yaml"), []byte(k), 0o644); err != nil {
		t.Fatal(err)
	}
	objs, problems := ValidateDir(dir)
	if len(problems) > 0 {
		t.Fatal(strings.Join(problems, "\n"))
	}
	for _, o := range objs {
		if cj, ok := o.Obj.(*batchv1.CronJob); ok && cj.Name == "kbak-dump" {
			job := cj.Spec.JobTemplate.Spec
			if shard, _ := flagValue(job.Template.Spec.Containers[0].Args, "--shard"); *job.Completions != 8 || *job.Parallelism != 8 || shard != "8" {
				t.Errorf("expected 8 shards everywhere, got completions %d, parallelism %d, --shard %s", *job.Completions, *job.Parallelism, shard)
			}
			return
		}
	}
	t.Fatal("no CronJob kbak-dump rendered")
}

// jobAndConfigMaps returns the rendered Job named name (nil if none) and the ConfigMaps by name.
func jobAndConfigMaps(objs []Object, name string) (*batchv1.Job, map[string]*corev1.ConfigMap) {
	var job *batchv1.Job
	configMaps := map[string]*corev1.ConfigMap{}
	for _, o := range objs {
		switch v := o.Obj.(type) {
		case *batchv1.Job:
			if v.Name == name {
				job = v
			}
		case *corev1.ConfigMap:
			configMaps[v.Name] = v
		}
	}
	return job, configMaps
}
