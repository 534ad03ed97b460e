package httpapi

import (
	"net/http"
	"strconv"

	"github.com/trellisml/trellis/internal/route"
	"github.com/trellisml/trellis/internal/trellis"
	"github.com/trellisml/trellis/internal/work"
)

type commentList struct {
	Comments []*work.Comment `json:"comments"`
}

func (api *API) listComments(w http.ResponseWriter, r *http.Request) error {
	ref, err := pathValue(r, "item")
	if err != nil {
		return err
	}
	cs, err := api.work.Comments(r.Context(), route.ProjectFrom(r.Context()), ref)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, commentList{Comments: cs})
}

// CommentRequest is the body of POST /items/{item}/comments.
type CommentRequest struct {
	Body string `json:"body"`
}

func (api *API) addComment(w http.ResponseWriter, r *http.Request) error {
	ref, err := pathValue(r, "item")
	if err != nil {
		return err
	}
	var req CommentRequest
	if err := decode(r, &req); err != nil {
		return err
	}
	c, err := api.work.AddComment(r.Context(), route.ProjectFrom(r.Context()), ref, req.Body)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, c)
}

type activityList struct {
	Activity []*work.Activity `json:"activity"`
}

func (api *API) activity(w http.ResponseWriter, r *http.Request) error {
	limit := 0
	if v := r.URL.Query().Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 500 {
			return trellis.Invalid("limit", "limit must be a number from 1 to 500")
		}
		limit = n
	}
	as, err := api.work.ActivityFeed(r.Context(), route.ProjectFrom(r.Context()), limit)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, activityList{Activity: as})
}

type inboxList struct {
	Notifications []*work.Notification `json:"notifications"`
}

func (api *API) inbox(w http.ResponseWriter, r *http.Request) error {
	ns, err := api.work.Inbox(r.Context())
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, inboxList{Notifications: ns})
}

// InboxReadRequest is the body of POST /inbox/read.
type InboxReadRequest struct {
	// All must be true: it marks every notification read.
	All bool `json:"all"`
}

func (api *API) inboxRead(w http.ResponseWriter, r *http.Request) error {
	var req InboxReadRequest
	if err := decode(r, &req); err != nil {
		return err
	}
	if !req.All {
		return trellis.Invalid("all", `send {"all": true} to mark every notification read`)
	}
	if err := api.work.MarkInboxRead(r.Context()); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
