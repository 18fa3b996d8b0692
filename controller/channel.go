package controller

import (
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gin-gonic/gin"

	"switchyard/common/channeltype"
	"switchyard/common/errs"
	"switchyard/model"
	"switchyard/relay"
)

// maxChannelsPerCreate caps the keys one POST may turn into channels.
const maxChannelsPerCreate = 1000

func (h *Relay) views(chans []model.Channel) []model.ChannelView {
	out := make([]model.ChannelView, len(chans))
	for i := range chans {
		out[i] = h.Store.View(&chans[i])
	}
	return out
}

// ListChannels pages through channels (GET /api/channel/?p=&page_size=).
func (h *Relay) ListChannels(c *gin.Context) error {
	offset, limit := page(c)
	chans, total, err := h.Store.ListChannels(c.Request.Context(), offset, limit)
	if err != nil {
		return err
	}
	okPage(c, h.views(chans), total)
	return nil
}

// SearchChannels matches id, name or base URL (GET /api/channel/search?keyword=).
func (h *Relay) SearchChannels(c *gin.Context) error {
	keyword := strings.TrimSpace(c.Query("keyword"))
	if len(keyword) > 128 {
		return errs.BadRequest("keyword must be at most 128 bytes").WithParam("keyword")
	}
	chans, err := h.Store.SearchChannels(c.Request.Context(), keyword, 100)
	if err != nil {
		return err
	}
	ok(c, h.views(chans))
	return nil
}

// GetChannel shows one channel, its key masked (GET /api/channel/:id).
func (h *Relay) GetChannel(c *gin.Context) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	ch, err := h.Store.ChannelByID(c.Request.Context(), id)
	if err != nil {
		return err
	}
	ok(c, h.Store.View(ch))
	return nil
}

// CreateChannel adds channels (POST /api/channel/): a key of several lines
// makes one channel per line, as in One API, unless multi_key_mode is
// "random" or "polling": then the lines are the keys of one channel.
func (h *Relay) CreateChannel(c *gin.Context) error {
	var in model.Channel
	if err := bindJSON(c, &in); err != nil {
		return err
	}
	var keys []string
	for _, k := range strings.Split(in.Key, "\n") {
		if k = strings.TrimSpace(k); k != "" {
			keys = append(keys, k)
		}
	}
	if len(keys) == 0 {
		return errs.BadRequest("key is required").WithParam("key")
	}
	if len(keys) > maxChannelsPerCreate {
		return errs.BadRequest("at most %d keys at once", maxChannelsPerCreate).WithParam("key")
	}
	var chans []*model.Channel
	if in.MultiKeyMode != model.KeyModeSingle {
		in.Key = strings.Join(keys, "\n")
		chans = []*model.Channel{&in}
	} else {
		chans = make([]*model.Channel, len(keys))
		for i, k := range keys {
			ch := in
			ch.Key = k
			chans[i] = &ch
		}
	}
	if err := h.Store.CreateChannels(c.Request.Context(), chans); err != nil {
		return err
	}
	out := make([]model.ChannelView, len(chans))
	for i, ch := range chans {
		out[i] = h.Store.View(ch)
	}
	ok(c, out)
	return nil
}

// UpdateChannel edits a channel (PUT /api/channel/, id in the body). Only
// the fields sent change; an empty or missing key keeps the stored one.
func (h *Relay) UpdateChannel(c *gin.Context) error {
	raw, err := io.ReadAll(c.Request.Body)
	if err != nil {
		return decodeError(err)
	}
	var head struct {
		ID int `json:"id"`
	}
	if err := json.Unmarshal(raw, &head); err != nil {
		return decodeError(err)
	}
	if head.ID <= 0 {
		return errs.BadRequest("id is required").WithParam("id")
	}
	cur, err := h.Store.ChannelByID(c.Request.Context(), head.ID)
	if err != nil {
		return err
	}
	next := *cur
	next.Key = ""
	if err := json.Unmarshal(raw, &next); err != nil {
		return decodeError(err)
	}
	next.ID = head.ID
	saved, err := h.Store.UpdateChannel(c.Request.Context(), &next)
	if err != nil {
		return err
	}
	ok(c, h.Store.View(saved))
	return nil
}

// EnableChannelKey brings back one key of a multi-key channel that was
// disabled on its own (POST /api/channel/:id/keys/:index/enable), for an
// operator who fixed the account behind it; the reply is the channel as
// GET shows it. index is the key's place in the key list, as the view's
// keys[].index gives it. A key still dead is disabled again by the first
// call that finds it so, as before. The relay's own way back is a passing
// test, which retests only a channel whose every key is dead.
func (h *Relay) EnableChannelKey(c *gin.Context) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	index, err := strconv.Atoi(c.Param("index"))
	if err != nil || index < 0 {
		return errs.BadRequest("index must be a whole number from 0").WithParam("index")
	}
	ctx := c.Request.Context()
	ch, err := h.Store.ChannelByID(ctx, id)
	if err != nil {
		return err
	}
	if ch.MultiKeyMode == model.KeyModeSingle {
		return errs.BadRequest("channel %d holds one key: enable the channel instead", id).WithParam("id")
	}
	plain, err := h.Store.ChannelKey(ch)
	if err != nil {
		return errs.Internal(err)
	}
	keys := model.SplitKeys(plain, ch.MultiKeyMode)
	if index >= len(keys) {
		return errs.BadRequest("channel %d has %d keys: index must be below that", id, len(keys)).WithParam("index")
	}
	if _, err := h.Store.EnableChannelKey(ctx, id, keys[index]); err != nil {
		return err
	}
	if ch, err = h.Store.ChannelByID(ctx, id); err != nil {
		return err
	}
	ok(c, h.Store.View(ch))
	return nil
}

// DeleteChannel removes a channel (DELETE /api/channel/:id).
func (h *Relay) DeleteChannel(c *gin.Context) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	if err := h.Store.DeleteChannel(c.Request.Context(), id); err != nil {
		return err
	}
	okMsg(c, "")
	return nil
}

// DeleteDisabledChannels removes every disabled channel and says how many
// (DELETE /api/channel/disabled).
func (h *Relay) DeleteDisabledChannels(c *gin.Context) error {
	n, err := h.Store.DeleteDisabledChannels(c.Request.Context())
	if err != nil {
		return err
	}
	ok(c, n)
	return nil
}

// FixChannelAbilities rebuilds the abilities table from the channels
// (POST /api/channel/fix, new-api's path). data is new-api's
// {"success": channels rebuilt, "fails": channels that failed}.
func (h *Relay) FixChannelAbilities(c *gin.Context) error {
	fixed, failed, err := h.Store.FixAbilities(c.Request.Context())
	if err != nil {
		return err
	}
	ok(c, gin.H{"success": fixed, "fails": failed})
	return nil
}

// DeleteChannels removes several channels at once (POST
// /api/channel/batch, new-api's path, body {"ids": [...]}); unknown ids
// are skipped. data is how many went.
func (h *Relay) DeleteChannels(c *gin.Context) error {
	ids, err := bindIDs(c)
	if err != nil {
		return err
	}
	n, err := h.Store.DeleteChannels(c.Request.Context(), ids)
	if err != nil {
		return err
	}
	ok(c, n)
	return nil
}

// CopyChannel makes a new channel from one (POST
// /api/channel/copy/:id?suffix=&reset_balance=, new-api's path): the same
// settings and key, named with suffix (default "_copy") appended, the
// balance reset unless reset_balance=false. data is {"id": the copy's id}.
func (h *Relay) CopyChannel(c *gin.Context) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	suffix, given := c.GetQuery("suffix")
	if !given {
		suffix = "_copy"
	}
	if len(suffix) > 64 || !utf8.ValidString(suffix) {
		return errs.BadRequest("suffix must be at most 64 bytes of UTF-8").WithParam("suffix")
	}
	reset := true
	if v := c.Query("reset_balance"); v != "" {
		if reset, err = strconv.ParseBool(v); err != nil {
			return errs.BadRequest("reset_balance must be true or false").WithParam("reset_balance")
		}
	}
	cp, err := h.Store.CopyChannel(c.Request.Context(), id, suffix, reset)
	if err != nil {
		return err
	}
	ok(c, gin.H{"id": cp.ID})
	return nil
}

// TestChannel tests one channel now (GET /api/channel/test/:id?model=) and
// answers One API's {success, message, time} with time in seconds.
func (h *Relay) TestChannel(c *gin.Context) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	modelName := strings.TrimSpace(c.Query("model"))
	if len(modelName) > 255 {
		return errs.BadRequest("model is too long").WithParam("model")
	}
	elapsed, err := h.Engine.TestChannel(c.Request.Context(), id, modelName)
	if err != nil {
		e := errs.As(err)
		if e.Status == http.StatusNotFound || e.Status == http.StatusBadRequest {
			return e
		}
		// The test ran and the channel failed it: that is a result, not a
		// failed API call, and One API answers it with 200.
		c.JSON(http.StatusOK, gin.H{"success": false, "message": e.PublicMessage(), "time": elapsed.Seconds()})
		return nil
	}
	// A channel that works for a model without a price passes, and the
	// admin is told what its calls will cost.
	if modelName == "" {
		if ch := h.Store.Channels.ByID(id); ch != nil && len(ch.Models) > 0 {
			modelName = ch.Models[0]
		}
	}
	c.JSON(http.StatusOK, gin.H{"success": true, "message": relay.PriceWarning(h.Store.Options.Get(), modelName), "time": elapsed.Seconds()})
	return nil
}

// TestAllChannels tests every channel in the background (GET /api/channel/test).
func (h *Relay) TestAllChannels(c *gin.Context) error {
	if err := h.Engine.TestAllChannels(); err != nil {
		return err
	}
	okMsg(c, "testing every channel in the background")
	return nil
}

// UpdateChannelBalance reads one channel's balance from its provider
// (GET /api/channel/update_balance/:id).
func (h *Relay) UpdateChannelBalance(c *gin.Context) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	bal, err := h.Engine.UpdateBalance(c.Request.Context(), id)
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, gin.H{"success": true, "message": "", "balance": bal})
	return nil
}

// FetchModels lists the models channel id's provider offers its key
// (GET /api/channel/fetch_models/:id, new-api's path), for the console to
// fill the channel's model list; nothing is saved.
func (h *Relay) FetchModels(c *gin.Context) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	models, err := h.Engine.UpstreamModels(c.Request.Context(), id)
	if err != nil {
		return err
	}
	ok(c, models)
	return nil
}

// FetchModelsOf lists the models the provider of a channel not yet saved
// offers its key (POST /api/channel/fetch_models with the create form's
// type, key, base_url, config and other, as new-api takes them).
func (h *Relay) FetchModelsOf(c *gin.Context) error {
	var in model.Channel
	if err := bindJSON(c, &in); err != nil {
		return err
	}
	ch, err := model.ChannelPreview(in)
	if err != nil {
		return err
	}
	models, err := h.Engine.ModelsOf(c.Request.Context(), ch)
	if err != nil {
		return err
	}
	ok(c, models)
	return nil
}

// UpdateAllBalances refreshes every balance in the background
// (GET /api/channel/update_balance).
func (h *Relay) UpdateAllBalances(c *gin.Context) error {
	h.Engine.UpdateAllBalances()
	okMsg(c, "updating balances in the background")
	return nil
}

// ChannelModels lists the models a channel can be set to serve: every model
// with a price and every model a channel serves now, in OpenAI's model
// shape (GET /api/channel/models).
func (h *Relay) ChannelModels(c *gin.Context) error {
	ok(c, modelObjects(h.knownModels()))
	return nil
}

func (h *Relay) knownModels() []string {
	seen := map[string]bool{}
	for _, m := range h.Store.Channels.AllModels() {
		seen[m] = true
	}
	for m := range h.Store.Options.Get().Parsed().ModelRatio {
		seen[m] = true
	}
	return model.SortedKeys(seen)
}

// modelObject is a model in OpenAI's list shape.
type modelObject struct {
	ID      string `json:"id"`
	Object  string `json:"object"`
	Created int64  `json:"created"`
	OwnedBy string `json:"owned_by"`
}

// modelsCreated is the fixed "created" time reported for every model: the
// relay does not know when a provider made one.
var modelsCreated = time.Date(2023, 1, 1, 0, 0, 0, 0, time.UTC).Unix()

func modelObjects(names []string) []modelObject {
	out := make([]modelObject, len(names))
	for i, n := range names {
		out[i] = modelObject{ID: n, Object: "model", Created: modelsCreated, OwnedBy: ownerOf(n)}
	}
	return out
}

func ownerOf(name string) string {
	switch {
	case strings.HasPrefix(name, "claude"):
		return "anthropic"
	case strings.HasPrefix(name, "gemini"):
		return "google"
	case strings.HasPrefix(name, "gpt"), strings.HasPrefix(name, "o1"), strings.HasPrefix(name, "o3"),
		strings.HasPrefix(name, "text-"), strings.HasPrefix(name, "dall-e"), strings.HasPrefix(name, "whisper"),
		strings.HasPrefix(name, "tts"), strings.HasPrefix(name, "omni-"):
		return "openai"
	}
	return "switchyard"
}

// ChannelTypes lists the channel types this relay serves, from the one
// registry (GET /api/channel/types): the console builds its type picker,
// base URL hints, default models and the `other` field's label from it.
func (h *Relay) ChannelTypes(c *gin.Context) error {
	ok(c, channeltype.All())
	return nil
}
