package relay

import (
	"strings"
	"sync"

	"github.com/pkoukk/tiktoken-go"
	tiktokenloader "github.com/pkoukk/tiktoken-go-loader"
)

// Tokenizer counts tokens locally, the way OpenAI's models do, for the
// reservation estimate and for answers whose upstream reports no usage.
// Its encodings are built into the binary: counting never needs the
// network. They load on first use and are shared by every Tokenizer of
// the process: building one costs hundreds of thousands of allocations
// and tens of megabytes, which a second engine in the same process (the
// tests, the benchmark) must not pay again while it serves (issue 14).
type Tokenizer struct{}

var encodings struct {
	clOnce, oOnce sync.Once
	cl100k        *tiktoken.Tiktoken
	o200k         *tiktoken.Tiktoken
}

func init() {
	// The loader is a registry filled at init: it makes tiktoken read its
	// encodings from the embedded files instead of downloading them.
	tiktoken.SetBpeLoader(tiktokenloader.NewOfflineLoader())
}

// Each encoding holds tens of megabytes of ranks, so each loads only when a
// model that uses it is first counted.
func (t *Tokenizer) cl() *tiktoken.Tiktoken {
	encodings.clOnce.Do(func() { encodings.cl100k, _ = tiktoken.GetEncoding(tiktoken.MODEL_CL100K_BASE) })
	return encodings.cl100k
}

func (t *Tokenizer) o200() *tiktoken.Tiktoken {
	encodings.oOnce.Do(func() { encodings.o200k, _ = tiktoken.GetEncoding(tiktoken.MODEL_O200K_BASE) })
	return encodings.o200k
}

// Warm loads the encoding most models use now rather than on the first
// request; it returns once it is loaded.
func (t *Tokenizer) Warm() { t.o200() }

func (t *Tokenizer) encodingFor(model string) *tiktoken.Tiktoken {
	for _, p := range []string{"gpt-4o", "gpt-4.1", "gpt-4.5", "gpt-5", "o1", "o3", "o4", "chatgpt-4o"} {
		if strings.HasPrefix(model, p) {
			return t.o200()
		}
	}
	return t.cl()
}

// Count is the number of tokens in text for model.
func (t *Tokenizer) Count(model, text string) int {
	if text == "" {
		return 0
	}
	enc := t.encodingFor(model)
	if enc == nil {
		// The embedded encodings failed to load: a rough count beats none.
		return (len(text) + 3) / 4
	}
	return len(enc.EncodeOrdinary(text))
}

// ApproxTokens estimates a text's token count from its length without
// tokenizing: about three bytes per token, which is on the high side for
// English (about four) and close for CJK text (three bytes a character).
func ApproxTokens(text string) int { return approxTokensOf(len(text)) }

// approxTokensOf is ApproxTokens for a text of n bytes, so that a byte
// slice is estimated without a string copy of it.
func approxTokensOf(n int) int {
	if n <= 0 {
		return 0
	}
	return (n + 2) / 3
}
