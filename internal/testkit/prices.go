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
