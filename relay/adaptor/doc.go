// Package adaptor is the relay's neutral vocabulary and the two interfaces
// that meet at it: a Front is a client format (what a caller sends and
// reads), an Adaptor is a provider wire format (what goes upstream). The
// engine (package relay) sits between them: it selects a channel, reserves
// quota, tries, fails over, meters and settles, and knows no format. This
// comment is the living version of the design (SEAM.md, issue 9); every
// refinement of it is written here.
//
// # Packages
//
//	common/channeltype       the one registry of channel types (data only)
//	relay/adaptor            this vocabulary; imports neither gin nor model
//	relay/adaptor/openai     OpenAI wire format and every OpenAI-compatible row
//	relay/adaptor/azure      Azure OpenAI
//	relay/adaptor/anthropic  Anthropic Messages (also exports its wire structs)
//	relay/front/openai       OpenAI client formats (chat, completions, embeddings, ...)
//	relay/front/anthropic    Anthropic Messages client format
//	relay/front/...          further client formats (responses, gemini)
//
// A provider package may hold both directions' helpers for its format, and
// a front may import an adaptor package's wire types rather than write them
// twice.
//
// # Format and Mode
//
// Format is the shape of a body (OpenAI chat and friends, OpenAI
// Responses, Anthropic Messages, Gemini). Mode is the kind of call (chat,
// embeddings, images, ...). A call is described by both: an OpenAI
// Responses call is ModeChat with FormatResponses; an Anthropic Messages
// call is ModeChat with FormatAnthropic. The zero Format (FormatNeutral)
// marks a request built by the relay itself (channel tests): every adaptor
// builds its body from the neutral fields.
//
// # Pass-through
//
// When the client's format is one the adaptor speaks natively (Native), the
// client's bytes go upstream unchanged except the model name (and, for
// OpenAI streams, stream_options.include_usage so the upstream reports
// usage), and the answer comes back unchanged: nothing is translated twice,
// so fields this relay does not know survive. An adaptor speaks its own
// Format(); it may speak more through the optional Speaker interface (the
// OpenAI adaptor speaks FormatResponses too, on /v1/responses).
//
// Otherwise the front has filled Request.Chat (or Input for embeddings),
// the adaptor builds its body from it, decodes the answer into a Response
// (whole) or Events (streamed), and the front renders those. A mode that an
// adaptor cannot convert (images from an Anthropic channel) fails with an
// *UpstreamError of ClassUnsupported before anything goes upstream, and the
// engine tries the next channel.
//
// Streams: the engine calls the decoder on every upstream frame, also when
// passing through, because the decoder meters the call (usage, text for a
// local count). Pass-through hands the frame to StreamEncoder.Raw together
// with the events it decoded to (so the OpenAI front can drop the usage
// chunk the adaptor asked for on a client's behalf without parsing it
// again); otherwise the events go to StreamEncoder.Event. The encoder owns
// its format's end of stream (Finish) and its in-stream error event
// (Fail); the engine only says when. A stream is whole when the decoder
// says Done (OpenAI's [DONE], or a finish reason followed by usage from
// vendors that omit it; Anthropic's message_stop); anything else is cut,
// and a cut after bytes went out aborts the client connection.
//
// # Adding a front
//
// A front is a value implementing Front. The router mounts it on a route
// with controller.Relay.Handler, under the route's error style:
//
//	r.POST("/v1/responses", middleware.Style(errs.StyleOpenAI), ..., rh.Handler(responses.Front{}, adaptor.ModeChat))
//
// Errors returned before any byte went out are *errs.Error values that the
// route's style renders (SEAM.md's Front.ErrorStyle is this middleware, not
// a method: the adaptor package imports neither gin nor errs). In-stream
// errors are the encoder's Fail. Nothing in the engine changes. A front may
// add a Mode (the engine switches on Mode only for billing units: images,
// speech, audio) and, for an OpenAI-compatible upstream that speaks its
// format natively, the OpenAI adaptor implements Speaker for it.
//
// # Adding an adaptor
//
// An adaptor is a value implementing Adaptor, registered for a kind of
// common/channeltype in the engine's adaptorFor table. It receives an
// *Upstream (channel id, type, base URL, one key, `other`, config map and
// the registry's Vendor row), never a database row. It classifies the
// provider's errors into an UpstreamError Class through a table tested in
// its own package; the engine maps Class to retry, disable and cooldown
// once for every provider (relay/failure.go). Optional abilities are small
// interfaces found by type assertion: Speaker, Balancer, Counter,
// FrameReader.
//
// Classes refine SEAM.md's list with ClassAuth (a refused credential that
// may pass, such as a 403 for a region: retried and penalised, never
// disabled) and ClassNotFound (a model or path the channel does not know:
// retried and penalised). ClassUnsupported is also what NewRequest returns
// for a mode or format the adaptor cannot convert; the engine then tries
// the next channel without a cooldown and answers 400 unsupported_by_channel
// when none serves (issue 10: a clear 400, never a 500).
// A stream decoder returns an *UpstreamError for an error the provider
// sends inside its stream: before any byte reached the client the engine
// fails over, after it the encoder's Fail writes it in the client's shape.
//
// # Usage and billing
//
// Usage.PromptTokens counts every input token, cached ones included;
// CachedTokens and CacheCreationTokens say how many of them were cache
// reads and cache writes; CompletionTokens includes ReasoningTokens. Each
// adaptor maps its provider's figures into this (Anthropic's input_tokens
// excludes cache tokens, so PromptTokens = input + cache_read +
// cache_creation there). The engine prices a Usage in one function.
package adaptor
