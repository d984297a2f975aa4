// Command render renders a Helm chart the way `helm template` does, for tests on a machine with no helm
// binary (ECOSYSTEM.md §5.2): Go text/template with missingkey=zero, sprig's TxtFuncMap minus env and
// expandenv, Helm's own functions (include, tpl, required, fail, toYaml, fromYaml, toJson, fromJson),
// .Values (values.yaml deep-merged with every -f file, later wins, null deletes), .Release, .Chart,
// .Capabilities, .Template and .Files (Get, Glob, range). Templates whose names start with "_" are not
// rendered; "<no value>" is replaced by "". It is a subset of Helm: the chart must not use lookup,
// subcharts or .Capabilities.APIVersions.Has. JSON-schema validation of values is left to the caller.
//
// Usage: render -chart DIR [-f values.yaml]... [-name RELEASE] [-namespace NS] [-values-only] -out DIR
// Writes DIR/values.json (the merged values, before any template runs; all, with -values-only),
// DIR/manifests.yaml (every document, each headed by "# Source: <chart>/templates/<file>"),
// DIR/manifests.json (the documents as a JSON array, empty ones dropped) and DIR/NOTES.txt. Exits 1 with
// the template error on failure.
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"text/template"

	"github.com/Masterminds/sprig/v3"
	"github.com/ghodss/yaml"
)

type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }

// Files is Helm's .Files: chart-relative path -> contents, excluding templates/ and Chart.yaml/values.yaml.
type Files map[string][]byte

func (f Files) Get(name string) string { return string(f[name]) }

func (f Files) Glob(pattern string) Files {
	out := Files{}
	for name, data := range f {
		if ok, _ := path.Match(pattern, name); ok {
			out[name] = data
		}
	}
	return out
}

func readYAML(file string) (map[string]interface{}, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	out := map[string]interface{}{}
	if err := yaml.Unmarshal(data, &out); err != nil {
		return nil, fmt.Errorf("%s: %v", file, err)
	}
	return out, nil
}

// merge deep-merges src into dst as Helm coalesces values: maps merge key by key, anything else replaces,
// and a null in src deletes the key.
func merge(dst, src map[string]interface{}) {
	for k, v := range src {
		if v == nil {
			delete(dst, k)
			continue
		}
		sm, sok := v.(map[string]interface{})
		dm, dok := dst[k].(map[string]interface{})
		if sok && dok {
			merge(dm, sm)
		} else {
			dst[k] = v
		}
	}
}

func toYAML(v interface{}) string {
	data, err := yaml.Marshal(v)
	if err != nil {
		return ""
	}
	return strings.TrimSuffix(string(data), "\n")
}

func fromYAML(s string) map[string]interface{} {
	m := map[string]interface{}{}
	if err := yaml.Unmarshal([]byte(s), &m); err != nil {
		m["Error"] = err.Error()
	}
	return m
}

func toJSON(v interface{}) string {
	data, err := json.Marshal(v)
	if err != nil {
		return ""
	}
	return string(data)
}

func fromJSON(s string) map[string]interface{} {
	m := map[string]interface{}{}
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		m["Error"] = err.Error()
	}
	return m
}

// capitalize maps Chart.yaml keys to Helm's field names (apiVersion -> APIVersion, appVersion -> AppVersion).
func capitalize(chart map[string]interface{}) map[string]interface{} {
	out := map[string]interface{}{}
	for k, v := range chart {
		name := strings.ToUpper(k[:1]) + k[1:]
		if k == "apiVersion" {
			name = "APIVersion"
		}
		out[name] = v
	}
	return out
}

func main() {
	var valueFiles multiFlag
	chartDir := flag.String("chart", "", "chart directory")
	release := flag.String("name", "release-name", "release name")
	namespace := flag.String("namespace", "default", "release namespace")
	outDir := flag.String("out", "", "output directory")
	flag.Var(&valueFiles, "f", "values file (repeatable; later wins)")
	valuesOnly := flag.Bool("values-only", false, "write values.json and stop")
	flag.Parse()
	if *chartDir == "" || *outDir == "" {
		fmt.Fprintln(os.Stderr, "usage: render -chart DIR [-f values.yaml]... -out DIR")
		os.Exit(2)
	}
	if err := run(*chartDir, valueFiles, *release, *namespace, *outDir, *valuesOnly); err != nil {
		fmt.Fprintln(os.Stderr, "render:", err)
		os.Exit(1)
	}
}

func run(chartDir string, valueFiles []string, release, namespace, outDir string, valuesOnly bool) error {
	chart, err := readYAML(filepath.Join(chartDir, "Chart.yaml"))
	if err != nil {
		return err
	}
	chartName, _ := chart["name"].(string)
	values, err := readYAML(filepath.Join(chartDir, "values.yaml"))
	if err != nil {
		return err
	}
	for _, f := range valueFiles {
		v, err := readYAML(f)
		if err != nil {
			return err
		}
		merge(values, v)
	}
	if err := os.MkdirAll(outDir, 0o755); err != nil {
		return err
	}
	vjs, err := json.MarshalIndent(values, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(outDir, "values.json"), vjs, 0o644); err != nil || valuesOnly {
		return err
	}

	files := Files{}
	var templates []string
	err = filepath.Walk(chartDir, func(p string, info os.FileInfo, err error) error {
		if err != nil || info.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(chartDir, p)
		rel = filepath.ToSlash(rel)
		if strings.HasPrefix(rel, "templates/") {
			templates = append(templates, rel)
			return nil
		}
		if rel == "Chart.yaml" || rel == "values.yaml" || rel == "values.schema.json" {
			return nil
		}
		data, err := os.ReadFile(p)
		files[rel] = data
		return err
	})
	if err != nil {
		return err
	}
	sort.Strings(templates)

	// Every template is parsed into one set under "<chart>/templates/<file>", as Helm does, so that
	// include can reach the defines of _helpers.tpl from any file.
	root := template.New("gotpl").Option("missingkey=zero")
	funcs := sprig.TxtFuncMap()
	delete(funcs, "env")
	delete(funcs, "expandenv")
	includeDepth := 0
	funcs["include"] = func(name string, data interface{}) (string, error) {
		includeDepth++
		defer func() { includeDepth-- }()
		if includeDepth > 1000 {
			return "", fmt.Errorf("include %q: recursion too deep", name)
		}
		var buf bytes.Buffer
		if err := root.ExecuteTemplate(&buf, name, data); err != nil {
			return "", err
		}
		return buf.String(), nil
	}
	funcs["tpl"] = func(text string, data interface{}) (string, error) {
		t, err := root.Clone()
		if err != nil {
			return "", err
		}
		t, err = t.New("tpl").Parse(text)
		if err != nil {
			return "", err
		}
		var buf bytes.Buffer
		if err := t.Execute(&buf, data); err != nil {
			return "", err
		}
		return strings.ReplaceAll(buf.String(), "<no value>", ""), nil
	}
	funcs["required"] = func(msg string, v interface{}) (interface{}, error) {
		if v == nil {
			return nil, fmt.Errorf("%s", msg)
		}
		if s, ok := v.(string); ok && s == "" {
			return nil, fmt.Errorf("%s", msg)
		}
		return v, nil
	}
	funcs["fail"] = func(msg string) (string, error) { return "", fmt.Errorf("%s", msg) }
	funcs["toYaml"] = toYAML
	funcs["fromYaml"] = fromYAML
	funcs["toJson"] = toJSON
	funcs["fromJson"] = fromJSON
	funcs["lookup"] = func(string, string, string, string) (map[string]interface{}, error) {
		return map[string]interface{}{}, nil
	}
	root.Funcs(funcs)
	for _, rel := range templates {
		data, err := os.ReadFile(filepath.Join(chartDir, rel))
		if err != nil {
			return err
		}
		if _, err := root.New(chartName + "/" + rel).Parse(string(data)); err != nil {
			return err
		}
	}

	top := map[string]interface{}{
		"Values": values,
		"Chart":  capitalize(chart),
		"Release": map[string]interface{}{
			"Name": release, "Namespace": namespace, "Service": "Helm", "IsInstall": true,
			"IsUpgrade": false, "Revision": 1,
		},
		"Capabilities": map[string]interface{}{
			"KubeVersion": map[string]interface{}{"Version": "v1.30.0", "Major": "1", "Minor": "30"},
		},
		"Files": files,
	}

	var manifests strings.Builder
	var docs []interface{}
	var notes string
	separator := regexp.MustCompile(`(?m)^---\s*$`)
	for _, rel := range templates {
		if strings.HasPrefix(path.Base(rel), "_") {
			continue
		}
		name := chartName + "/" + rel
		vals := map[string]interface{}{}
		for k, v := range top {
			vals[k] = v
		}
		vals["Template"] = map[string]interface{}{"Name": name, "BasePath": chartName + "/templates"}
		var buf bytes.Buffer
		if err := root.ExecuteTemplate(&buf, name, vals); err != nil {
			return err
		}
		out := strings.ReplaceAll(buf.String(), "<no value>", "")
		if path.Base(rel) == "NOTES.txt" {
			notes = out
			continue
		}
		for _, doc := range separator.Split(out, -1) {
			var obj interface{}
			if err := yaml.Unmarshal([]byte(doc), &obj); err != nil {
				return fmt.Errorf("%s: rendered YAML does not parse: %v\n%s", name, err, doc)
			}
			if obj == nil {
				continue
			}
			docs = append(docs, obj)
			fmt.Fprintf(&manifests, "---\n# Source: %s\n%s\n", name, strings.Trim(doc, "\n"))
		}
	}
	js, err := json.MarshalIndent(docs, "", "  ")
	if err != nil {
		return err
	}
	for name, data := range map[string][]byte{
		"manifests.yaml": []byte(manifests.String()), "manifests.json": js, "NOTES.txt": []byte(notes),
	} {
		if err := os.WriteFile(filepath.Join(outDir, name), data, 0o644); err != nil {
			return err
		}
	}
	return nil
}
