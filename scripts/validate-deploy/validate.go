// Package main validates kbak's Kubernetes manifests offline: every kustomization is rendered with
// the kustomize library kubectl embeds, every rendered object is decoded strictly into the
// Kubernetes API types (unknown or duplicate fields, wrong types, bad quantities and unknown kinds
// are errors), and the scheduled-job rules deploy/README.md promises are checked on the typed
// objects.
package main

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer/json"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	"sigs.k8s.io/yaml"
)

// Object is one rendered, strictly decoded object.
type Object struct {
	Kind string
	Name string
	Obj  runtime.Object
}

var decoder = func() runtime.Decoder {
	scheme := runtime.NewScheme()
	for _, add := range []func(*runtime.Scheme) error{corev1.AddToScheme, batchv1.AddToScheme, rbacv1.AddToScheme} {
		if err := add(scheme); err != nil {
			panic(err)
		}
	}
	return json.NewSerializerWithOptions(json.DefaultMetaFactory, scheme, scheme,
		json.SerializerOptions{Yaml: true, Strict: true})
}()

// Render builds the kustomization in dir, as `kubectl kustomize dir` does.
func Render(dir string) ([][]byte, error) {
	opts := krusty.MakeDefaultOptions()
	resources, err := krusty.MakeKustomizer(opts).Run(filesys.MakeFsOnDisk(), dir)
	if err != nil {
		return nil, fmt.Errorf("kustomize: %w", err)
	}
	var docs [][]byte
	for _, r := range resources.Resources() {
		doc, err := r.AsYAML()
		if err != nil {
			return nil, fmt.Errorf("kustomize output %s: %w", r.CurId(), err)
		}
		docs = append(docs, doc)
	}
	return docs, nil
}

// Decode decodes one YAML document strictly into its Kubernetes API type.
func Decode(doc []byte) (Object, error) {
	obj, gvk, err := decoder.Decode(doc, nil, nil)
	if err != nil {
		return Object{}, err
	}
	var meta struct {
		Metadata struct {
			Name string `json:"name"`
		} `json:"metadata"`
	}
	if err := yaml.Unmarshal(doc, &meta); err != nil {
		return Object{}, err
	}
	return Object{Kind: gvk.Kind, Name: meta.Metadata.Name, Obj: obj}, nil
}

// ValidateDir renders dir, decodes everything strictly and applies the policy; it returns the
// objects and every problem found (not only the first).
func ValidateDir(dir string) ([]Object, []string) {
	docs, err := Render(dir)
	if err != nil {
		return nil, []string{err.Error()}
	}
	var objs []Object
	var problems []string
	for i, doc := range docs {
		o, err := Decode(doc)
		if err != nil {
			problems = append(problems, fmt.Sprintf("object %d (%s): %v", i+1, firstLine(doc), err))
			continue
		}
		objs = append(objs, o)
	}
	problems = append(problems, Policy(objs)...)
	return objs, problems
}

func firstLine(doc []byte) string {
	var head struct {
		Kind     string `json:"kind"`
		Metadata struct {
			Name string `json:"name"`
		} `json:"metadata"`
	}
	_ = yaml.Unmarshal(doc, &head)
	return head.Kind + "/" + head.Metadata.Name
}

// Targets lists the kustomizations under root that render on their own: every folder with a
// kustomization.yaml whose kind is not Component (components render only inside an overlay).
func Targets(root string) ([]string, error) {
	return kustomizations(root, func(kind string) bool { return kind != "Component" })
}

// Components lists the kustomize Components under root (folders whose kustomization.yaml has kind
// Component): each is also validated on its own on top of root/base (ValidateComponent), so a
// component no example overlay uses is still rendered and checked.
func Components(root string) ([]string, error) {
	return kustomizations(root, func(kind string) bool { return kind == "Component" })
}

// kustomizations lists, sorted, the folders under root whose kustomization.yaml has a kind keep accepts.
func kustomizations(root string, keep func(kind string) bool) ([]string, error) {
	var dirs []string
	err := filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || d.Name() != "kustomization.yaml" {
			return err
		}
		raw, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		var k struct {
			Kind string `json:"kind"`
		}
		if err := yaml.Unmarshal(raw, &k); err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		if keep(k.Kind) {
			dirs = append(dirs, filepath.Dir(path))
		}
		return nil
	})
	sort.Strings(dirs)
	return dirs, err
}

// ValidateComponent renders base with the components added (as an overlay would) in a temporary
// kustomization, then validates the result as ValidateDir does.
func ValidateComponent(base string, components ...string) ([]Object, []string) {
	dir, err := os.MkdirTemp("", "validate-deploy-")
	if err != nil {
		return nil, []string{err.Error()}
	}
	defer os.RemoveAll(dir)
	// Kustomize refuses absolute roots: the paths are written relative to the temporary folder.
	var rel []string
	for _, p := range append([]string{base}, components...) {
		abs, err1 := filepath.Abs(p)
		r, err2 := filepath.Rel(dir, abs)
		if err1 != nil || err2 != nil {
			return nil, []string{fmt.Sprintf("cannot reach %s from %s", p, dir)}
		}
		rel = append(rel, r)
	}
	// The image as every overlay sets it: the base tags only its own resources, not a component's.
	k := fmt.Sprintf("apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - %s\ncomponents:\n  - %s\n"+
		"images:\n  - name: kbak\n    newName: registry.example.com/platform/kbak\n    newTag: 0.1.0\n", rel[0], strings.Join(rel[1:], "\n  - "))
	if err := os.WriteFile(filepath.Join(dir, "kustomization.yaml"), []byte(k), 0o644); err != nil {
		return nil, []string{err.Error()}
	}
	return ValidateDir(dir)
}

// Usage: validate-deploy [-print] [ROOT]; ROOT defaults to deploy. -print also writes the rendered
// YAML to stdout (what `kubectl kustomize` would show), for reviewing a change without kubectl.
func main() {
	root, print := "deploy", false
	for _, a := range os.Args[1:] {
		if a == "-print" {
			print = true
		} else {
			root = a
		}
	}
	dirs, err := Targets(root)
	if err != nil {
		fmt.Fprintf(os.Stderr, "validate-deploy: %v\n", err)
		os.Exit(1)
	}
	if len(dirs) == 0 {
		fmt.Fprintf(os.Stderr, "validate-deploy: no kustomization.yaml under %s\n", root)
		os.Exit(1)
	}
	failed := false
	for _, dir := range dirs {
		objs, problems := ValidateDir(dir)
		if len(problems) > 0 {
			failed = true
			for _, p := range problems {
				fmt.Fprintf(os.Stderr, "validate-deploy: %s: %s\n", dir, p)
			}
			continue
		}
		names := make([]string, 0, len(objs))
		for _, o := range objs {
			names = append(names, o.Kind+"/"+o.Name)
		}
		fmt.Printf("ok %s: %s\n", dir, strings.Join(names, ", "))
		if print {
			docs, _ := Render(dir)
			for _, d := range docs {
				fmt.Printf("---\n%s", d)
			}
		}
	}
	components, err := Components(root)
	if err != nil {
		fmt.Fprintf(os.Stderr, "validate-deploy: %v\n", err)
		os.Exit(1)
	}
	base := filepath.Join(root, "base")
	for _, comp := range components {
		objs, problems := ValidateComponent(base, comp)
		where := base + " + " + comp
		if len(problems) > 0 {
			failed = true
			for _, p := range problems {
				fmt.Fprintf(os.Stderr, "validate-deploy: %s: %s\n", where, p)
			}
			continue
		}
		fmt.Printf("ok %s: %d objects\n", where, len(objs))
	}
	if failed {
		fmt.Fprintln(os.Stderr, "validate-deploy: manifests are not valid (fix the fields named above)")
		os.Exit(1)
	}
}
