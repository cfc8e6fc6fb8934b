package node

import (
	"context"
	"fmt"
	"strings"

	"github.com/hiso-chat/hiso/node/api"
	"github.com/hiso-chat/hiso/protocol"
	"github.com/hiso-chat/hiso/store"
)

// profileSetting is where the name this user chose for itself (at init,
// or on the UI's first screen) is kept: what invites and contact requests
// carry unless told otherwise.
const profileSetting = "profile_name"

// SaveProfileName records the name this user goes by. It is for the
// commands that make a home (init, the UI's first run), before any node
// runs on the store.
// TODO(issue 12): check name with the shared name validator (NFC, no
// Cc/Cf/Zl/Zp) once it lands; until then protocol.ValidateName.
func SaveProfileName(ctx context.Context, st *store.Store, name string) error {
	name = strings.TrimSpace(name)
	if err := protocol.ValidateName(name); err != nil {
		return fmt.Errorf("%w: %v", api.ErrInvalid, err)
	}
	return st.SetSetting(ctx, profileSetting, name)
}

// myName is the name invites and requests carry by default: the profile
// name, or "hiso-" and the end of the peer ID, which a shell can type.
func (n *Node) myName(ctx context.Context) string {
	if name, ok, err := n.store.Setting(ctx, profileSetting); err == nil && ok && name != "" {
		return name
	}
	id := n.id.ID.String()
	return "hiso-" + id[len(id)-6:]
}

// shellName makes a name a peer suggested easy to type at a shell: its
// words joined by '-' (the user can rename the contact later).
func shellName(s string) string {
	return strings.Join(strings.Fields(s), "-")
}
