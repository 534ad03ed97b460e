package httpapi

import (
	"embed"
	"encoding/json"
	"fmt"
	"io/fs"
	"net/http"
	"sort"
)

// openAPIFiles hold the OpenAPI 3 description of /api/v1, written by hand
// so it can carry prose: base.json has the info, security schemes and shared
// components, and each other file adds the paths and schemas of one group of
// resources. TestOpenAPIMatchesRoutes keeps the merged document in step with
// Routes.
//
//go:embed openapi/*.json
var openAPIFiles embed.FS

// openAPIDoc is the merged document, built once at start-up.
var openAPIDoc = mustMergeOpenAPI(openAPIFiles)

type openAPIFragment struct {
	Paths      map[string]json.RawMessage `json:"paths"`
	Components struct {
		Schemas map[string]json.RawMessage `json:"schemas"`
	} `json:"components"`
}

// mergeOpenAPI folds the fragments into base.json; a path or schema defined
// twice is an error, so two resources cannot silently overwrite each other.
func mergeOpenAPI(fsys fs.FS) ([]byte, error) {
	var doc map[string]any
	b, err := fs.ReadFile(fsys, "openapi/base.json")
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		return nil, fmt.Errorf("base.json: %w", err)
	}
	paths := doc["paths"].(map[string]any)
	schemas := doc["components"].(map[string]any)["schemas"].(map[string]any)
	names, err := fs.Glob(fsys, "openapi/*.json")
	if err != nil {
		return nil, err
	}
	sort.Strings(names)
	for _, name := range names {
		if name == "openapi/base.json" {
			continue
		}
		raw, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, err
		}
		var frag openAPIFragment
		if err := json.Unmarshal(raw, &frag); err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		for p, v := range frag.Paths {
			if _, dup := paths[p]; dup {
				return nil, fmt.Errorf("%s: path %s is defined twice", name, p)
			}
			paths[p] = v
		}
		for s, v := range frag.Components.Schemas {
			if _, dup := schemas[s]; dup {
				return nil, fmt.Errorf("%s: schema %s is defined twice", name, s)
			}
			schemas[s] = v
		}
	}
	return json.MarshalIndent(doc, "", " ")
}

func mustMergeOpenAPI(fsys fs.FS) []byte {
	b, err := mergeOpenAPI(fsys)
	if err != nil {
		panic("openapi: " + err.Error())
	}
	return b
}

func (api *API) openAPI(w http.ResponseWriter, r *http.Request) error {
	w.Header().Set("Content-Type", "application/json")
	_, err := w.Write(openAPIDoc)
	return err
}
