package controller_test

import (
	"bytes"
	"context"
	"io"
	"mime"
	"mime/multipart"
	"strings"
	"testing"

	"github.com/openai/openai-go"

	"switchyard/internal/fakeupstream"
	"switchyard/internal/testkit"
	"switchyard/model"
	"switchyard/relay/pricing"
)

// png is the smallest PNG there is: one transparent pixel.
var png = []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82")

// TestImageEditsRelayAndBillPerImage pins /v1/images/edits through the
// openai-go SDK: the form reaches the upstream with the model mapped and
// each image's own content type (OpenAI refuses application/octet-stream),
// several images as image[], and the call is billed per image as a
// generation is, quality and n included, with one consume log.
func TestImageEditsRelayAndBillPerImage(t *testing.T) {
	testkit.ForEachDB(t, nil, func(t *testing.T, app *testkit.App) {
		up := fakeupstream.Start(fakeupstream.Behavior{})
		defer up.Close()
		f := newRelayFixture(t, app, 10_000_000, map[string]any{"name": "images", "unlimited_quota": true})
		f.channel(t, map[string]any{"name": "openai", "base_url": up.URL, "models": "gpt-image-1",
			"model_mapping": `{"gpt-image-1":"gpt-image-1-2025-04-23"}`})
		c := f.client(f.tok.Key)
		ctx := context.Background()

		img, err := c.Images.Edit(ctx, openai.ImageEditParams{
			Model: openai.ImageModelGPTImage1, Prompt: "add a hat",
			Image:   openai.ImageEditParamsImageUnion{OfFile: openai.File(bytes.NewReader(png), "cat.png", "image/png")},
			Quality: openai.ImageEditParamsQualityHigh, N: openai.Int(2),
		})
		if err != nil || len(img.Data) != 2 || img.Data[0].B64JSON == "" {
			t.Fatalf("edit: %v %+v", err, img)
		}
		form := upstreamForm(t, up)
		if form.Value["model"][0] != "gpt-image-1-2025-04-23" || form.Value["prompt"][0] != "add a hat" || form.Value["n"][0] != "2" {
			t.Fatalf("upstream form values %v", form.Value)
		}
		fh := form.File["image"][0]
		if fh.Header.Get("Content-Type") != "image/png" || fh.Filename != "cat.png" {
			t.Fatalf("upstream image part %v", fh.Header)
		}
		if got := readPart(t, fh); !bytes.Equal(got, png) {
			t.Fatalf("image bytes changed: %d bytes", len(got))
		}

		// Several images go as image[], each with its own type.
		_, err = c.Images.Edit(ctx, openai.ImageEditParams{
			Model: openai.ImageModelGPTImage1, Prompt: "merge them",
			Image: openai.ImageEditParamsImageUnion{OfFileArray: []io.Reader{
				openai.File(bytes.NewReader(png), "a.png", "image/png"), openai.File(bytes.NewReader(png), "b.webp", "image/webp"),
			}},
		})
		if err != nil {
			t.Fatal(err)
		}
		form = upstreamForm(t, up)
		images := append(form.File["image"], form.File["image[]"]...)
		if len(images) != 2 || images[1].Header.Get("Content-Type") != "image/webp" {
			t.Fatalf("two images: %v", form.File)
		}

		logs := consumeLogs(t, app, f.user.UserID)
		price := pricing.Price{Model: 21, Completion: 1, Group: 1}
		want := []int64{price.Image("gpt-image-1", "", "high", 2), price.Image("gpt-image-1", "", "", 1)}
		if len(logs) != 2 || logs[0].Quota != want[0] || logs[1].Quota != want[1] || logs[0].ModelName != "gpt-image-1" {
			t.Fatalf("consume logs %+v, want quotas %v", logs, want)
		}
		var u model.User
		app.Store.DB.First(&u, f.user.UserID)
		if u.UsedQuota != want[0]+want[1] {
			t.Fatalf("user used %d, want %d", u.UsedQuota, want[0]+want[1])
		}
	})
}

// TestImageEditsBadInput: a malformed edit is refused in OpenAI's shape
// before anything goes upstream, and nothing refused is billed.
func TestImageEditsBadInput(t *testing.T) {
	testkit.ForEachDB(t, nil, func(t *testing.T, app *testkit.App) {
		up := fakeupstream.Start(fakeupstream.Behavior{})
		defer up.Close()
		f := newRelayFixture(t, app, 10_000_000, map[string]any{"name": "images", "unlimited_quota": true})
		f.channel(t, map[string]any{"name": "openai", "base_url": up.URL, "models": "gpt-image-1"})
		send := func(key string, fields map[string]string, withImage bool) (int, string) {
			var buf bytes.Buffer
			mw := multipart.NewWriter(&buf)
			for k, v := range fields {
				mw.WriteField(k, v)
			}
			if withImage {
				p, _ := mw.CreateFormFile("image", "cat.png")
				p.Write(png)
			}
			mw.Close()
			return rawCall(t, "POST", app.URL+"/v1/images/edits", buf.String(), map[string]string{"Authorization": "Bearer " + key, "Content-Type": mw.FormDataContentType()})
		}
		ok := map[string]string{"model": "gpt-image-1", "prompt": "add a hat"}
		with := func(k, v string) map[string]string {
			m := map[string]string{}
			for a, b := range ok {
				m[a] = b
			}
			if v == "" {
				delete(m, k)
			} else {
				m[k] = v
			}
			return m
		}
		for _, tc := range []struct {
			name     string
			fields   map[string]string
			image    bool
			status   int
			contains string
		}{
			{"no image", ok, false, 400, "image is required"},
			{"no prompt", with("prompt", ""), true, 400, "prompt is required"},
			{"no model", with("model", ""), true, 400, "model is required"},
			{"n too large", with("n", "11"), true, 400, "n must be"},
			{"n not a number", with("n", "' OR 1=1 --"), true, 400, "n must be"},
			{"streamed", with("stream", "true"), true, 400, "stream"},
			{"unknown model", with("model", "模型💥"), true, 404, "model"},
		} {
			status, body := send(f.tok.Key, tc.fields, tc.image)
			if status != tc.status || !strings.Contains(body, `"error":{`) || !strings.Contains(body, tc.contains) {
				t.Fatalf("%s: %d %s", tc.name, status, body)
			}
		}
		status, body := rawCall(t, "POST", app.URL+"/v1/images/edits", `{"model":"gpt-image-1","prompt":"x"}`, map[string]string{"Authorization": "Bearer " + f.tok.Key})
		if status != 400 || !strings.Contains(body, "multipart") {
			t.Fatalf("JSON body: %d %s", status, body)
		}
		if status, _ := send("", ok, true); status != 401 {
			t.Fatalf("anonymous: %d", status)
		}
		if up.Calls() != 0 {
			t.Fatalf("refused edits reached the upstream %d times", up.Calls())
		}
		// An image the upstream refuses (sent as application/octet-stream)
		// is the upstream's 400, passed on and not billed.
		status, body = send(f.tok.Key, ok, true)
		if status != 400 || !strings.Contains(body, "unsupported mimetype") {
			t.Fatalf("octet-stream image: %d %s", status, body)
		}
		if logs := consumeLogs(t, app, f.user.UserID); len(logs) != 0 {
			t.Fatalf("refused edits were billed: %+v", logs)
		}
	})
}

// upstreamForm parses the multipart form the fake upstream last received.
func upstreamForm(t *testing.T, up *fakeupstream.Server) *multipart.Form {
	t.Helper()
	_, params, err := mime.ParseMediaType(up.LastHeader().Get("Content-Type"))
	if err != nil {
		t.Fatalf("upstream content type %q: %v", up.LastHeader().Get("Content-Type"), err)
	}
	form, err := multipart.NewReader(bytes.NewReader(up.LastBody()), params["boundary"]).ReadForm(8 << 20)
	if err != nil {
		t.Fatal(err)
	}
	return form
}

func readPart(t *testing.T, fh *multipart.FileHeader) []byte {
	t.Helper()
	f, err := fh.Open()
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var b bytes.Buffer
	b.ReadFrom(f)
	return b.Bytes()
}
