package model

import (
	"strings"
	"testing"

	"switchyard/common/crypto"
)

func TestSecretConfigHiddenAndKept(t *testing.T) {
	stored := `{"ak":"AKID","sk":"s3cret","region":"us-east-1"}`
	if got := hideSecrets(33, stored); got != `{"ak":"AKID","region":"us-east-1","sk":"(hidden)"}` {
		t.Fatalf("hidden: %s", got)
	}
	if got := hideSecrets(1, `{"sk":"x"}`); got != `{"sk":"x"}` {
		t.Fatalf("a type without secrets: %s", got)
	}
	cases := []struct{ name, edited, want string }{
		{"sent back hidden", `{"ak":"AKID","sk":"(hidden)","region":"eu-west-1"}`, `{"ak":"AKID","region":"eu-west-1","sk":"s3cret"}`},
		{"left empty", `{"ak":"AKID","sk":"","region":"us-east-1"}`, `{"ak":"AKID","region":"us-east-1","sk":"s3cret"}`},
		{"left out", `{"ak":"AKID2","region":"us-east-1"}`, `{"ak":"AKID2","region":"us-east-1","sk":"s3cret"}`},
		{"replaced", `{"ak":"AKID","sk":"new","region":"us-east-1"}`, `{"ak":"AKID","region":"us-east-1","sk":"new"}`},
	}
	for _, c := range cases {
		if got := keepSecrets(33, c.edited, stored); got != c.want {
			t.Errorf("%s: %s, want %s", c.name, got, c.want)
		}
	}
}

func TestSecretConfigSealedAndOpened(t *testing.T) {
	sealer := crypto.NewSealer("config-secret")
	clear := `{"ak":"AKID","sk":"s3cret","region":"us-east-1"}`
	sealed := sealSecrets(sealer, 33, clear)
	if strings.Contains(sealed, "s3cret") || !strings.Contains(sealed, `"sk":"enc:v1:`) || !strings.Contains(sealed, `"ak":"AKID"`) || !strings.Contains(sealed, `"region":"us-east-1"`) {
		t.Fatalf("sealed: %s", sealed)
	}
	if again := sealSecrets(sealer, 33, sealed); again != sealed {
		t.Fatalf("a sealed value was sealed twice: %s", again)
	}
	if got, err := openSecrets(sealer, 33, sealed); err != nil || got != `{"ak":"AKID","region":"us-east-1","sk":"s3cret"}` {
		t.Fatalf("opened: %s %v", got, err)
	}
	// Rows in clear (older ones, One API's) open as they are.
	if got, err := openSecrets(sealer, 33, clear); err != nil || got != clear {
		t.Fatalf("clear row: %s %v", got, err)
	}
	if _, err := openSecrets(crypto.NewSealer("another-secret"), 33, sealed); err == nil {
		t.Fatal("a sealed value opened under another CRYPTO_SECRET")
	}
	if _, err := openSecrets(crypto.NewSealer(""), 33, sealed); err == nil {
		t.Fatal("a sealed value opened without CRYPTO_SECRET")
	}
	for name, c := range map[string]struct {
		typ    int
		config string
	}{
		"no secret set":          {33, `{"ak":"AKID","region":"us-east-1"}`},
		"empty":                  {33, `{"sk":""}`},
		"not a string":           {33, `{"sk":{"nested":"s3cret"}}`},
		"hidden placeholder":     {33, `{"sk":"(hidden)"}`},
		"a type without secrets": {1, `{"sk":"s3cret"}`},
		"not JSON":               {42, `vertex_ai_adc`},
		"no config":              {42, ``},
		"vertex without its key": {42, `{"region":"us-east5"}`},
	} {
		if got := sealSecrets(sealer, c.typ, c.config); got != c.config {
			t.Errorf("%s: %s became %s", name, c.config, got)
		}
	}
	if got := sealSecrets(crypto.NewSealer(""), 33, clear); got != clear {
		t.Fatalf("sealed without CRYPTO_SECRET: %s", got)
	}
	adc := `{"region":"us-east5","vertex_ai_adc":"{\"type\":\"service_account\",\"private_key\":\"-----BEGIN PRIVATE KEY-----\\nMII\"}"}`
	v := sealSecrets(sealer, 42, adc)
	if strings.Contains(v, "PRIVATE KEY") {
		t.Fatalf("vertex key in clear: %s", v)
	}
	if got, err := openSecrets(sealer, 42, v); err != nil || got != adc {
		t.Fatalf("vertex opened: %s %v", got, err)
	}
}

func TestConfigStrings(t *testing.T) {
	got := ConfigStrings(`{"region":"us-east-1","n":3,"headers":{"X-A":"1"},"ünï":"✓"}`)
	want := map[string]string{"region": "us-east-1", "n": "3", "headers": `{"X-A":"1"}`, "ünï": "✓"}
	if len(got) != len(want) {
		t.Fatalf("got %v", got)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s: %q, want %q", k, got[k], v)
		}
	}
	for _, bad := range []string{"", "  ", "not json", "[1,2]", `"text"`} {
		if m := ConfigStrings(bad); m != nil {
			t.Errorf("%q: %v, want nil", bad, m)
		}
	}
}
