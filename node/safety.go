package node

import (
	"context"

	"github.com/hiso-chat/hiso/identity"
	"github.com/hiso-chat/hiso/node/api"
)

// Safety returns the safety number shared with a contact.
func (n *Node) Safety(ctx context.Context, name string) (api.Safety, error) {
	c, err := n.contactNamed(name)
	if err != nil {
		return api.Safety{}, err
	}
	pub, err := c.peer.ExtractPublicKey()
	if err != nil {
		return api.Safety{}, err
	}
	sn, err := identity.ComputeSafetyNumber(n.id.Key.GetPublic(), pub)
	if err != nil {
		return api.Safety{}, err
	}
	sc, err := n.store.Contact(ctx, c.id)
	if err != nil {
		return api.Safety{}, err
	}
	return api.Safety{Contact: c.name, Number: sn.String(), Verified: sc.Verified}, nil
}

// Verify marks a contact verified (after the user compared the numbers).
func (n *Node) Verify(ctx context.Context, name string) (api.Safety, error) {
	s, err := n.Safety(ctx, name)
	if err != nil {
		return s, err
	}
	c, _ := n.contactNamed(name)
	if err := n.store.SetVerified(ctx, c.id, true, n.cfg.now()); err != nil {
		return s, err
	}
	s.Verified = true
	return s, nil
}
