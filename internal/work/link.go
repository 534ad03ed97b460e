package work

import (
	"context"

	"github.com/trellisml/trellis/internal/project"
	"github.com/trellisml/trellis/internal/trellis"
)

// Link types between items.
const (
	LinkBlocks     = "blocks"
	LinkRelatesTo  = "relates_to"
	LinkFollowUpOf = "follow_up_of"
)

// Link is a typed relation from one item to another, seen from the item
// that holds it: Direction "out" means this item blocks/relates to/follows
// up Key; "in" is the reverse.
type Link struct {
	Type      string `json:"type"`
	Key       string `json:"key"`
	Title     string `json:"title"`
	Direction string `json:"direction"`
}

// LinkStore is the persistence of links between items.
type LinkStore interface {
	AddLink(ctx context.Context, fromID, toID, typ string) error
	RemoveLink(ctx context.Context, fromID, toID, typ string) error
	FindLinks(ctx context.Context, itemID string) ([]Link, error)
}

// LinkTypes lists the link types an API caller may create.
var LinkTypes = []string{LinkBlocks, LinkRelatesTo, LinkFollowUpOf}

// AddLink links item ref to item to with a typed relation.
// Errors: ENOTFOUND, EINVALID.
func (s *Service) AddLink(ctx context.Context, proj *project.Project, ref, typ, to string) error {
	if err := oneOf("type", typ, LinkTypes); err != nil || typ == "" {
		return trellis.Invalid("type", "type must be blocks, relates_to or follow_up_of")
	}
	from, err := s.Item(ctx, proj, ref)
	if err != nil {
		return err
	}
	target, err := s.itemIn(ctx, proj, "to", to)
	if err != nil {
		return err
	}
	if target.ID == from.ID {
		return trellis.Invalid("to", "an item cannot link to itself")
	}
	return s.store.AddLink(ctx, from.ID, target.ID, typ)
}

// RemoveLink removes a link from item ref. Errors: ENOTFOUND.
func (s *Service) RemoveLink(ctx context.Context, proj *project.Project, ref, typ, to string) error {
	from, err := s.Item(ctx, proj, ref)
	if err != nil {
		return err
	}
	target, err := s.itemIn(ctx, proj, "to", to)
	if err != nil {
		return err
	}
	return s.store.RemoveLink(ctx, from.ID, target.ID, typ)
}
