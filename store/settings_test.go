package store

import (
	"context"
	"testing"
)

func TestSettings(t *testing.T) {
	ctx := context.Background()
	path := dbPath(t)
	s := openTest(t, path)
	if _, ok, err := s.Setting(ctx, "listen"); err != nil || ok {
		t.Fatalf("missing setting: ok=%v err=%v", ok, err)
	}
	if err := s.SetSetting(ctx, "listen", "/ip4/0.0.0.0/tcp/1"); err != nil {
		t.Fatal(err)
	}
	if err := s.SetSetting(ctx, "listen", "/ip4/0.0.0.0/tcp/2"); err != nil {
		t.Fatal(err)
	}
	if err := s.SetSetting(ctx, "empty", ""); err != nil {
		t.Fatal(err)
	}
	if v, ok, err := s.Setting(ctx, "listen"); err != nil || !ok || v != "/ip4/0.0.0.0/tcp/2" {
		t.Fatalf("Setting = %q %v %v", v, ok, err)
	}
	if v, ok, err := s.Setting(ctx, "empty"); err != nil || !ok || v != "" {
		t.Fatalf("empty Setting = %q %v %v", v, ok, err)
	}
}
