package tui

import (
	"testing"
	"time"

	"github.com/hiso-chat/hiso/node/api"
	"github.com/hiso-chat/hiso/node/api/apitest"
)

// TestContract runs the api.Service contract on the UI's fake, the one the
// node and the socket client run, so that the fake cannot drift from them.
func TestContract(t *testing.T) {
	apitest.Run(t, func(t *testing.T) api.Service {
		f := newEmptyFake()
		f.now = time.Now
		return f
	})
}
