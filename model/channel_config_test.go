package model

import "testing"

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
