package httpapi

import (
	"net/http"
	"time"

	"github.com/trellisml/trellis/internal/route"
	"github.com/trellisml/trellis/internal/tracking"
	"github.com/trellisml/trellis/internal/trellis"
)

// runItemLink is a run↔item link on the wire.
type runItemLink struct {
	RunID     string    `json:"run_id"`
	Item      string    `json:"item"`
	Source    string    `json:"source"`
	CreatedAt time.Time `json:"created_at"`
}

type runItemLinks struct {
	Links []runItemLink `json:"links"`
}

func toLinks(ls []tracking.ItemLink) runItemLinks {
	out := runItemLinks{Links: make([]runItemLink, len(ls))}
	for i, l := range ls {
		out.Links[i] = toLink(l)
	}
	return out
}

func toLink(l tracking.ItemLink) runItemLink {
	return runItemLink{RunID: l.RunID, Item: l.ItemKey, Source: l.Source, CreatedAt: trellis.FromMillis(l.CreatedAt)}
}

func (api *API) listRunItems(w http.ResponseWriter, r *http.Request) error {
	ls, err := api.track.RunItems(r.Context(), route.ProjectFrom(r.Context()), r.PathValue("run"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, toLinks(ls))
}

func (api *API) linkRunItem(w http.ResponseWriter, r *http.Request) error {
	l, err := api.track.LinkItem(r.Context(), route.ProjectFrom(r.Context()), r.PathValue("run"), r.PathValue("item"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, toLink(*l))
}

func (api *API) unlinkRunItem(w http.ResponseWriter, r *http.Request) error {
	if err := api.track.UnlinkItem(r.Context(), route.ProjectFrom(r.Context()), r.PathValue("run"), r.PathValue("item")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (api *API) listItemRuns(w http.ResponseWriter, r *http.Request) error {
	ls, err := api.track.ItemRuns(r.Context(), route.ProjectFrom(r.Context()), r.PathValue("item"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, toLinks(ls))
}
