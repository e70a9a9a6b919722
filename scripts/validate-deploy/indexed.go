package main

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
)

// Exit codes of README "Exit codes" that retrying never helps: 2 usage, 3 not found, 5 corrupt,
// 6 safety. A sharded Job fails such a shard at once (podFailurePolicy FailIndex).
var nonRetriableExitCodes = []int32{2, 3, 5, 6}

// Exit codes that mean "try again later" (4 service, 8 conflict): a policy must never fail on them.
var retriableExitCodes = []int32{4, 8}

// The downward-API field every pod of a Job carries: the Job's name. kbak derives a sharded
// dump's backup ID from it (a CronJob's Job is named <cronjob>-<minutes since epoch>).
const jobNameField = "metadata.labels['batch.kubernetes.io/job-name']"

// kbak's default --plan-ttl: how long shards may take before prune treats a plan as abandoned.
const defaultPlanTTL = 24 * time.Hour

// maxShards is kbak's limit on N in --shard N (src/model/shard.ts, MAX_SHARDS).
const maxShards = 1024

// checkIndexed checks the Indexed-Job fields of a Job spec (own or a CronJob's template): first the
// rules the API server applies at `kubectl apply` (so CI rejects what a cluster would), then, for a
// container that runs kbak with --shard, what a sharded kbak run needs: one pod per shard, retries
// per shard, no retry of what cannot succeed, and every shard agreeing on the backup.
func checkIndexed(bad func(string, ...any), prefix string, job batchv1.JobSpec, scheduled bool) {
	indexed := job.CompletionMode != nil && *job.CompletionMode == batchv1.IndexedCompletion
	pod := job.Template.Spec
	if !indexed && (job.BackoffLimitPerIndex != nil || job.MaxFailedIndexes != nil) {
		bad("%sbackoffLimitPerIndex and maxFailedIndexes need completionMode: Indexed", prefix)
	}
	if indexed && job.Completions == nil {
		bad("%scompletions must be set with completionMode: Indexed (one completion per index)", prefix)
	}
	if job.MaxFailedIndexes != nil {
		if job.BackoffLimitPerIndex == nil {
			bad("%smaxFailedIndexes needs backoffLimitPerIndex", prefix)
		}
		if job.Completions != nil && *job.MaxFailedIndexes > *job.Completions {
			bad("%smaxFailedIndexes %d is above completions %d", prefix, *job.MaxFailedIndexes, *job.Completions)
		}
	}
	if p := job.PodFailurePolicy; p != nil {
		if pod.RestartPolicy != corev1.RestartPolicyNever {
			bad("%spodFailurePolicy needs restartPolicy Never, got %q", prefix, pod.RestartPolicy)
		}
		for i, r := range p.Rules {
			if r.Action == batchv1.PodFailurePolicyActionFailIndex && job.BackoffLimitPerIndex == nil {
				bad("%spodFailurePolicy.rules[%d]: action FailIndex needs backoffLimitPerIndex", prefix, i)
			}
			if e := r.OnExitCodes; e != nil {
				if e.ContainerName != nil && !slices.ContainsFunc(pod.Containers, func(c corev1.Container) bool { return c.Name == *e.ContainerName }) {
					bad("%spodFailurePolicy.rules[%d].onExitCodes.containerName %q names no container of the pod", prefix, i, *e.ContainerName)
				}
				for j, v := range e.Values {
					if v == 0 && e.Operator == batchv1.PodFailurePolicyOnExitCodesOpIn {
						bad("%spodFailurePolicy.rules[%d].onExitCodes.values: 0 (success) cannot be listed with operator In", prefix, i)
					}
					if j > 0 && v <= e.Values[j-1] {
						bad("%spodFailurePolicy.rules[%d].onExitCodes.values must be unique and in increasing order, got %v", prefix, i, e.Values)
						break
					}
				}
			}
		}
	}
	for _, c := range pod.Containers {
		shard, ok := flagValue(c.Args, "--shard")
		if !ok {
			continue
		}
		checkShardedRun(func(format string, args ...any) { bad("container "+c.Name+": "+format, args...) }, prefix, job, c, shard, indexed, scheduled)
	}
}

// checkShardedRun checks a container running `kbak ... --shard N` in the Job spec job.
func checkShardedRun(bad func(string, ...any), prefix string, job batchv1.JobSpec, c corev1.Container, shard string, indexed, scheduled bool) {
	n, err := strconv.Atoi(shard)
	if err != nil || n < 1 || n > maxShards {
		bad("--shard %q must be the shard count alone (1 to %d): in an Indexed Job each pod's index comes from JOB_COMPLETION_INDEX, a fixed I/N would make every pod the same shard", shard, maxShards)
		return
	}
	if !indexed {
		bad("runs kbak with --shard %d, so %scompletionMode must be Indexed (Kubernetes then numbers the pods 0..%d)", n, prefix, n-1)
		return
	}
	if job.Completions == nil || *job.Completions != int32(n) {
		bad("%scompletions must equal the shard count %d of --shard, got %s", prefix, n, intText(job.Completions))
	}
	if job.Parallelism == nil || *job.Parallelism != int32(n) {
		bad("%sparallelism must equal the shard count %d of --shard, got %s (all shards run at once: they wait for each other's plan or lane)", prefix, n, intText(job.Parallelism))
	}
	if job.BackoffLimitPerIndex == nil {
		bad("%sbackoffLimitPerIndex must be set: a failed shard is retried alone, and its retries must not use up the others'", prefix)
	} else if job.BackoffLimit != nil && *job.BackoffLimit < int32(n)**job.BackoffLimitPerIndex {
		bad("%sbackoffLimit %d is below completions × backoffLimitPerIndex (%d): one shard's failures would end the others' retries (remove it, or raise it)", prefix, *job.BackoffLimit, int32(n)**job.BackoffLimitPerIndex)
	}
	if job.MaxFailedIndexes == nil || *job.MaxFailedIndexes != 0 {
		bad("%smaxFailedIndexes must be 0: one shard failed for good means no complete backup or lane, so the others stop at once (got %s)", prefix, intText(job.MaxFailedIndexes))
	}
	checkShardFailurePolicy(bad, prefix, job.PodFailurePolicy, c.Name)
	if len(c.Args) > 0 && c.Args[0] == "dump" {
		checkShardedDump(bad, prefix, job, c, scheduled)
	}
}

// checkShardFailurePolicy: the non-retriable exit codes fail the shard (FailIndex) for this
// container, a disruption is not a failure, and no rule fails on a code that a retry can cure.
func checkShardFailurePolicy(bad func(string, ...any), prefix string, p *batchv1.PodFailurePolicy, container string) {
	if p == nil {
		bad("%spodFailurePolicy must be set: FailIndex on exit codes %v (retrying never helps) and Ignore on DisruptionTarget", prefix, nonRetriableExitCodes)
		return
	}
	failIndex, ignoresDisruption := map[int32]bool{}, false
	for i, r := range p.Rules {
		if r.Action == batchv1.PodFailurePolicyActionIgnore {
			for _, pc := range r.OnPodConditions {
				if pc.Type == corev1.DisruptionTarget && (pc.Status == "" || pc.Status == corev1.ConditionTrue) {
					ignoresDisruption = true
				}
			}
		}
		e := r.OnExitCodes
		if e == nil || e.Operator != batchv1.PodFailurePolicyOnExitCodesOpIn || (e.ContainerName != nil && *e.ContainerName != container) {
			continue
		}
		for _, v := range e.Values {
			if slices.Contains(retriableExitCodes, v) && (r.Action == batchv1.PodFailurePolicyActionFailIndex || r.Action == batchv1.PodFailurePolicyActionFailJob) {
				bad("%spodFailurePolicy.rules[%d] fails on exit code %d, which a retry can cure (4 service, 8 conflict)", prefix, i, v)
			}
			if r.Action == batchv1.PodFailurePolicyActionFailIndex {
				failIndex[v] = true
			}
		}
	}
	for _, code := range nonRetriableExitCodes {
		if !failIndex[code] {
			bad("%spodFailurePolicy has no FailIndex rule on exit code %d (retrying never helps: 2 usage, 3 not found, 5 corrupt, 6 safety)", prefix, code)
		}
	}
	if !ignoresDisruption {
		bad("%spodFailurePolicy must Ignore the pod condition DisruptionTarget (an evicted or preempted shard is no failure of its own)", prefix)
	}
}

// checkShardedDump: every shard must agree on the backup ID, and the Job must end before prune may
// take its plan for abandoned.
func checkShardedDump(bad func(string, ...any), prefix string, job batchv1.JobSpec, c corev1.Container, scheduled bool) {
	_, fixedID := flagValue(c.Args, "--backup-id")
	if fixedID && scheduled {
		bad("--backup-id in a CronJob would give every night's run the same backup ID: take it from KBAK_JOB_NAME (the Job's name) instead")
	}
	if !fixedID {
		var fromJobName bool
		for _, e := range c.Env {
			if e.Name == "KBAK_JOB_NAME" && e.ValueFrom != nil && e.ValueFrom.FieldRef != nil && e.ValueFrom.FieldRef.FieldPath == jobNameField {
				fromJobName = true
			}
		}
		if !fromJobName {
			bad("a sharded dump needs env KBAK_JOB_NAME from the downward API (fieldRef %s) or --backup-id, so every shard derives the same backup ID", jobNameField)
		}
	}
	ttl := defaultPlanTTL
	if text, ok := flagValue(c.Args, "--plan-ttl"); ok {
		d, err := parseKbakDuration(text)
		if err != nil {
			bad("--plan-ttl %q: %v", text, err)
			return
		}
		ttl = d
	}
	if d := job.ActiveDeadlineSeconds; d != nil && time.Duration(*d)*time.Second >= ttl {
		bad("%sactiveDeadlineSeconds %d must be below the plan TTL %s: prune would take the plan of a Job still running for abandoned", prefix, *d, ttl)
	}
}

// flagValue returns the value of a flag given as `--name value` or `--name=value`.
func flagValue(args []string, name string) (string, bool) {
	for i, a := range args {
		if a == name && i+1 < len(args) {
			return args[i+1], true
		}
		if v, ok := strings.CutPrefix(a, name+"="); ok {
			return v, true
		}
	}
	return "", false
}

var kbakDuration = regexp.MustCompile(`^([1-9][0-9]*)(m|h|d|w)$`)

// parseKbakDuration reads kbak's durations (90m, 36h, 14d, 2w: src/backup/retention.ts).
func parseKbakDuration(text string) (time.Duration, error) {
	m := kbakDuration.FindStringSubmatch(text)
	if m == nil {
		return 0, fmt.Errorf("not a kbak duration (a number with m, h, d or w, e.g. 24h)")
	}
	n, _ := strconv.Atoi(m[1])
	unit := map[string]time.Duration{"m": time.Minute, "h": time.Hour, "d": 24 * time.Hour, "w": 7 * 24 * time.Hour}[m[2]]
	return time.Duration(n) * unit, nil
}

func intText(p *int32) string {
	if p == nil {
		return "unset"
	}
	return strconv.Itoa(int(*p))
}
