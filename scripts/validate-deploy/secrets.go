package main

import (
	"regexp"
	"strings"

	corev1 "k8s.io/api/core/v1"
)

// credentialName matches the variables through which kbak (and the AWS SDK inside it) reads a
// secret: KBAK_SASL_PASSWORD, KBAK_SCHEMA_REGISTRY_PASSWORD, KBAK_MASK_KEY, AWS_ACCESS_KEY_ID,
// AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN. (KBAK_TLS_KEY is a file path, not a key.)
var credentialName = regexp.MustCompile(`PASSWORD|SECRET|TOKEN|MASK_KEY|ACCESS_KEY`)

// credentialFlags are kbak's flags that take a password on the command line.
var credentialFlags = []string{"--sasl-password", "--schema-registry-password"}

// plainSecretsInConfigMap names the keys of a ConfigMap that hold a credential in plain text: a
// credential belongs in a Secret created in the cluster.
func plainSecretsInConfigMap(cm *corev1.ConfigMap) []string {
	var problems []string
	for k := range cm.Data {
		if credentialName.MatchString(strings.ToUpper(k)) {
			problems = append(problems, "ConfigMap/"+cm.Name+": key "+k+" is a credential in plain text (put it in the Secret kbak-credentials, created in the cluster)")
		}
	}
	return problems
}

// plainSecretsInContainer reports credentials a container gets in plain text: as a literal env
// value or as a password flag in its args (both are stored in the manifests and shown by kubectl).
func plainSecretsInContainer(bad func(string, ...any), c corev1.Container) {
	for _, e := range c.Env {
		if e.ValueFrom == nil && credentialName.MatchString(e.Name) {
			bad("env %s is a credential in plain text: take it from a Secret (secretKeyRef or envFrom secretRef)", e.Name)
		}
	}
	for _, a := range append(append([]string{}, c.Command...), c.Args...) {
		for _, f := range credentialFlags {
			if a == f || strings.HasPrefix(a, f+"=") {
				bad("args pass %s on the command line: set its variable from the Secret instead", f)
			}
		}
	}
}
