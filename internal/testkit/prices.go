package testkit

import (
	"context"
	"testing"

	"switchyard/internal/testkit/fixtureprice"
)

// priceFixtures adds fixtureprice.Models to the app's ModelRatio: the
// tests relay made-up names, and a relay refuses a model without a price.
func priceFixtures(t testing.TB, app *App) {
	t.Helper()
	v, err := fixtureprice.Merge(app.Store.Options.Get().String("ModelRatio"))
	if err != nil {
		t.Fatalf("testkit: %v", err)
	}
	if err := app.Store.Options.Set(context.Background(), "ModelRatio", v); err != nil {
		t.Fatalf("testkit: price the fixture models: %v", err)
	}
}

// priceFixturesOverHTTP is priceFixtures for an app seen only through
// its API (a process started by StartProcess): root reads ModelRatio and
// sets it with the fixture models added.
func priceFixturesOverHTTP(t testing.TB, app *App) {
	t.Helper()
	root := app.Root(t)
	var opts []struct {
		Key   string `json:"key"`
		Value string `json:"value"`
	}
	root.Do("GET", "/api/option/", nil).Want(t, 200, true).Decode(t, &opts)
	current := "{}"
	for _, o := range opts {
		if o.Key == "ModelRatio" {
			current = o.Value
		}
	}
	v, err := fixtureprice.Merge(current)
	if err != nil {
		t.Fatalf("testkit: %v", err)
	}
	root.SetOption("ModelRatio", v)
}
