package main

import (
	"fmt"
	"regexp"
	"strings"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
)

// Policy checks what the API types cannot: the rules deploy/README.md promises for every kbak
// CronJob and Job (no overlapping runs, bounded retries, memory limits, a locked-down container),
// that every ConfigMap and ServiceAccount a pod names is part of the same rendered set, so a typo or a
// generator's hashed name that was not rewritten is caught here and not by a pod stuck at start, and
// that no Secret is part of the manifests (secrets are created in the cluster, never committed).
func Policy(objs []Object) []string {
	configMaps := map[string]map[string]bool{}
	serviceAccounts := map[string]bool{}
	var problems []string
	for _, o := range objs {
		switch v := o.Obj.(type) {
		case *corev1.ConfigMap:
			keys := map[string]bool{}
			for k := range v.Data {
				keys[k] = true
			}
			configMaps[v.Name] = keys
			problems = append(problems, plainSecretsInConfigMap(v)...)
		case *corev1.ServiceAccount:
			serviceAccounts[v.Name] = true
		case *corev1.Secret:
			problems = append(problems, "Secret/"+v.Name+": a Secret is never part of the manifests (create it in the cluster; an example file stays outside every kustomization)")
		}
	}
	cronJobs := 0
	for _, o := range objs {
		switch v := o.Obj.(type) {
		case *batchv1.CronJob:
			cronJobs++
			where := "CronJob/" + v.Name
			if v.Spec.ConcurrencyPolicy != batchv1.ForbidConcurrent {
				problems = append(problems, fmt.Sprintf("%s: concurrencyPolicy must be Forbid (two runs must never overlap), got %q", where, v.Spec.ConcurrencyPolicy))
			}
			if n := len(strings.Fields(v.Spec.Schedule)); n != 5 {
				problems = append(problems, fmt.Sprintf("%s: schedule %q must have 5 cron fields, has %d", where, v.Spec.Schedule, n))
			}
			problems = append(problems, checkJob(where, "jobTemplate.spec.", v.Spec.JobTemplate.Spec, true, configMaps, serviceAccounts)...)
		case *batchv1.Job:
			problems = append(problems, checkJob("Job/"+v.Name, "spec.", v.Spec, false, configMaps, serviceAccounts)...)
		}
	}
	if cronJobs == 0 {
		problems = append(problems, "no CronJob rendered (a kbak deployment schedules at least one job)")
	}
	return problems
}

// checkJob checks a Job's spec, on its own or as a CronJob's template (scheduled; prefix names the
// field path).
func checkJob(where, prefix string, job batchv1.JobSpec, scheduled bool, configMaps map[string]map[string]bool, serviceAccounts map[string]bool) []string {
	var problems []string
	bad := func(format string, args ...any) {
		problems = append(problems, where+": "+fmt.Sprintf(format, args...))
	}
	// An Indexed Job may bound its retries per index instead (checkIndexed checks that pair).
	if job.BackoffLimit == nil && job.BackoffLimitPerIndex == nil {
		bad("%sbackoffLimit must be set (the default, 6, retries a broken run for hours)", prefix)
	}
	if job.ActiveDeadlineSeconds == nil {
		bad("%sactiveDeadlineSeconds must be set (a hung run must not block the next ones forever)", prefix)
	}
	checkIndexed(bad, prefix, job, scheduled)
	pod := job.Template.Spec
	if pod.RestartPolicy != corev1.RestartPolicyNever && pod.RestartPolicy != corev1.RestartPolicyOnFailure {
		bad("restartPolicy must be Never or OnFailure, got %q", pod.RestartPolicy)
	}
	if pod.ServiceAccountName == "" || !serviceAccounts[pod.ServiceAccountName] {
		bad("serviceAccountName %q is not a ServiceAccount of this kustomization", pod.ServiceAccountName)
	}
	psc := pod.SecurityContext
	if psc == nil || psc.RunAsNonRoot == nil || !*psc.RunAsNonRoot {
		bad("pod securityContext.runAsNonRoot must be true")
	}
	if psc == nil || psc.SeccompProfile == nil || psc.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault {
		bad("pod securityContext.seccompProfile.type must be RuntimeDefault")
	}
	for _, v := range pod.Volumes {
		if cm := v.ConfigMap; cm != nil && !optional(cm.Optional) {
			if _, ok := configMaps[cm.Name]; !ok {
				bad("volume %s names ConfigMap %q, which this kustomization does not render", v.Name, cm.Name)
			}
		}
	}
	if len(pod.Containers) == 0 {
		bad("has no container")
	}
	for _, c := range pod.Containers {
		problems = append(problems, checkContainer(where+" container "+c.Name, c, configMaps)...)
	}
	return problems
}

func checkContainer(where string, c corev1.Container, configMaps map[string]map[string]bool) []string {
	var problems []string
	bad := func(format string, args ...any) {
		problems = append(problems, where+": "+fmt.Sprintf(format, args...))
	}
	if c.Image == "" || strings.HasSuffix(c.Image, ":latest") || !strings.Contains(lastSegment(c.Image), ":") && !strings.Contains(c.Image, "@") {
		bad("image %q must name a tag or digest other than latest", c.Image)
	}
	sc := c.SecurityContext
	if sc == nil || sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem {
		bad("securityContext.readOnlyRootFilesystem must be true")
	}
	if sc == nil || sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation {
		bad("securityContext.allowPrivilegeEscalation must be false")
	}
	if sc == nil || sc.Capabilities == nil || !dropsAll(sc.Capabilities.Drop) {
		bad("securityContext.capabilities.drop must contain ALL")
	}
	if sc != nil && sc.Capabilities != nil && len(sc.Capabilities.Add) > 0 {
		bad("securityContext.capabilities.add must be empty, has %v", sc.Capabilities.Add)
	}
	if _, ok := c.Resources.Requests[corev1.ResourceMemory]; !ok {
		bad("resources.requests.memory must be set")
	}
	limit, ok := c.Resources.Limits[corev1.ResourceMemory]
	if !ok {
		bad("resources.limits.memory must be set")
	} else if req, ok := c.Resources.Requests[corev1.ResourceMemory]; ok && limit.Cmp(req) < 0 {
		bad("resources.limits.memory %s is below the request %s", limit.String(), req.String())
	}
	for _, ef := range c.EnvFrom {
		if ef.ConfigMapRef != nil && !optional(ef.ConfigMapRef.Optional) {
			if _, ok := configMaps[ef.ConfigMapRef.Name]; !ok {
				bad("envFrom names ConfigMap %q, which this kustomization does not render", ef.ConfigMapRef.Name)
			}
		}
	}
	plainSecretsInContainer(bad, c)
	// Kubernetes passes an unresolved $(NAME) through literally, so a typo would reach kbak as a
	// flag value such as "$(TOPICS_REGX)": every reference must name a variable the pod defines.
	defined := map[string]bool{}
	for _, e := range c.Env {
		defined[e.Name] = true
	}
	for _, ef := range c.EnvFrom {
		if ef.ConfigMapRef != nil {
			for k := range configMaps[ef.ConfigMapRef.Name] {
				defined[ef.Prefix+k] = true
			}
		}
	}
	for _, arg := range append(append([]string{}, c.Command...), c.Args...) {
		for _, m := range varRef.FindAllStringSubmatch(arg, -1) {
			if !defined[m[1]] {
				bad("args reference $(%s), which no env entry or envFrom ConfigMap defines", m[1])
			}
		}
	}
	for _, e := range c.Env {
		// A value from a Secret (the masking key) is required: a pod without it must not start and
		// run as if the secret did not matter.
		if e.ValueFrom != nil && e.ValueFrom.SecretKeyRef != nil && optional(e.ValueFrom.SecretKeyRef.Optional) {
			bad("env %s is an optional secretKeyRef: a secret a job needs must be required", e.Name)
		}
		if e.ValueFrom == nil || e.ValueFrom.ConfigMapKeyRef == nil || optional(e.ValueFrom.ConfigMapKeyRef.Optional) {
			continue
		}
		ref := e.ValueFrom.ConfigMapKeyRef
		keys, ok := configMaps[ref.Name]
		if !ok {
			bad("env %s names ConfigMap %q, which this kustomization does not render", e.Name, ref.Name)
		} else if !keys[ref.Key] {
			bad("env %s names key %q, which ConfigMap %q does not have", e.Name, ref.Key, ref.Name)
		}
	}
	return problems
}

// varRef matches a $(NAME) reference; $$(NAME) is Kubernetes' escape for a literal and is skipped.
var varRef = regexp.MustCompile(`(?:^|[^$])\$\(([A-Za-z_][A-Za-z0-9_.-]*)\)`)

func lastSegment(image string) string {
	return image[strings.LastIndex(image, "/")+1:]
}

func dropsAll(caps []corev1.Capability) bool {
	for _, c := range caps {
		if c == "ALL" {
			return true
		}
	}
	return false
}

func optional(p *bool) bool { return p != nil && *p }
