package httpapi

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/trellisml/trellis/internal/route"
	"github.com/trellisml/trellis/internal/trellis"
	"github.com/trellisml/trellis/internal/work"
)

// importOptions reads ?mapping=jira and map.FIELD=Column parameters.
func importOptions(r *http.Request) (work.ImportOptions, error) {
	q := r.URL.Query()
	opts := work.ImportOptions{Columns: map[string]string{}}
	switch q.Get("mapping") {
	case "", "trellis":
	case "jira":
		opts.Jira = true
	default:
		return opts, trellis.Invalid("mapping", "mapping must be trellis or jira")
	}
	for k, vs := range q {
		if f, ok := strings.CutPrefix(k, "map."); ok && len(vs) > 0 {
			opts.Columns[f] = vs[0]
		}
	}
	return opts, nil
}

// importResponse is the answer to an import; a refused import carries the
// usual error object and every refused row.
type importResponse struct {
	*work.ImportResult
	Error *errorDetail `json:"error,omitempty"`
}

func (api *API) importCSV(w http.ResponseWriter, r *http.Request) error {
	if ct := r.Header.Get("Content-Type"); ct != "" && !strings.HasPrefix(ct, "text/csv") && !strings.HasPrefix(ct, "application/octet-stream") {
		return trellis.Invalid("", "Content-Type must be text/csv")
	}
	opts, err := importOptions(r)
	if err != nil {
		return err
	}
	res, err := api.work.ImportCSV(r.Context(), route.ProjectFrom(r.Context()), r.Body, opts)
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return trellis.Errorf(trellis.ETOOLARGE, "the file is larger than %d bytes; split it", tooBig.Limit)
		}
		return err
	}
	if len(res.Errors) > 0 {
		return writeJSON(w, http.StatusBadRequest, importResponse{ImportResult: res, Error: &errorDetail{Code: trellis.EINVALID, Field: "rows",
			Message: fmt.Sprintf("%d rows were refused; nothing was imported", len(res.Errors))}})
	}
	return writeJSON(w, http.StatusCreated, importResponse{ImportResult: res})
}
