// Package crypto holds the few primitives Switchyard needs: random keys,
// key hashes, password hashes and at-rest encryption of channel keys.
package crypto

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"strings"

	"golang.org/x/crypto/bcrypt"
)

const alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"

// RandomString returns n characters from [a-zA-Z0-9] drawn from crypto/rand
// without modulo bias.
func RandomString(n int) string {
	out := make([]byte, 0, n)
	buf := make([]byte, n+16)
	for len(out) < n {
		if _, err := rand.Read(buf); err != nil {
			panic("crypto/rand failed: " + err.Error())
		}
		for _, b := range buf {
			// 248 = 4*62: reject the tail so every character is equally likely.
			if b < 248 && len(out) < n {
				out = append(out, alphabet[int(b)%len(alphabet)])
			}
		}
	}
	return string(out)
}

// RandomDigits returns n decimal digits drawn from crypto/rand without
// modulo bias, for codes people type from a mail.
func RandomDigits(n int) string {
	out := make([]byte, 0, n)
	buf := make([]byte, n+8)
	for len(out) < n {
		if _, err := rand.Read(buf); err != nil {
			panic("crypto/rand failed: " + err.Error())
		}
		for _, b := range buf {
			// 250 = 25*10: reject the tail so every digit is equally likely.
			if b < 250 && len(out) < n {
				out = append(out, '0'+b%10)
			}
		}
	}
	return string(out)
}

// HashKey is the SHA-256 of a secret key in hex: what the database stores
// for token keys and access tokens.
func HashKey(key string) string {
	sum := sha256.Sum256([]byte(key))
	return hex.EncodeToString(sum[:])
}

// HashPassword hashes a password with bcrypt at cost (config BCRYPT_COST).
func HashPassword(password string, cost int) (string, error) {
	b, err := bcrypt.GenerateFromPassword([]byte(password), cost)
	return string(b), err
}

// CheckPassword reports whether password matches the bcrypt hash.
func CheckPassword(hash, password string) bool {
	return bcrypt.CompareHashAndPassword([]byte(hash), []byte(password)) == nil
}

// Sealer encrypts short secrets (channel keys) at rest with AES-256-GCM
// under a key derived from CRYPTO_SECRET. A zero Sealer stores plain text.
type Sealer struct {
	aead cipher.AEAD
}

const sealedPrefix = "enc:v1:"

// NewSealer returns a Sealer for secret; an empty secret seals nothing.
func NewSealer(secret string) *Sealer {
	if secret == "" {
		return &Sealer{}
	}
	k := sha256.Sum256([]byte("switchyard/channel-key/" + secret))
	block, err := aes.NewCipher(k[:])
	if err != nil {
		panic(err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		panic(err)
	}
	return &Sealer{aead: aead}
}

// Seal encrypts plain when a secret is set.
func (s *Sealer) Seal(plain string) string {
	if s == nil || s.aead == nil || plain == "" {
		return plain
	}
	nonce := make([]byte, s.aead.NonceSize())
	_, _ = rand.Read(nonce)
	ct := s.aead.Seal(nonce, nonce, []byte(plain), nil)
	return sealedPrefix + base64.RawStdEncoding.EncodeToString(ct)
}

// Enabled reports whether s seals (CRYPTO_SECRET is set).
func (s *Sealer) Enabled() bool { return s != nil && s.aead != nil }

// IsSealed reports whether stored was written by Seal.
func IsSealed(stored string) bool { return strings.HasPrefix(stored, sealedPrefix) }

// ErrNoSecret means a sealed value was read without CRYPTO_SECRET.
var ErrNoSecret = errors.New("value is encrypted but CRYPTO_SECRET is not set")

// Open decrypts a value written by Seal; plain values pass through, so
// turning CRYPTO_SECRET on later keeps old rows readable.
func (s *Sealer) Open(stored string) (string, error) {
	if !strings.HasPrefix(stored, sealedPrefix) {
		return stored, nil
	}
	if s == nil || s.aead == nil {
		return "", ErrNoSecret
	}
	raw, err := base64.RawStdEncoding.DecodeString(stored[len(sealedPrefix):])
	if err != nil || len(raw) < s.aead.NonceSize() {
		return "", errors.New("sealed value is corrupt")
	}
	n := s.aead.NonceSize()
	plain, err := s.aead.Open(nil, raw[:n], raw[n:], nil)
	if err != nil {
		return "", errors.New("sealed value does not open with this CRYPTO_SECRET")
	}
	return string(plain), nil
}

// Mask shows a secret as its first and last few characters.
func Mask(secret string) string {
	if len(secret) <= 8 {
		return strings.Repeat("*", len(secret))
	}
	head := 3
	if strings.HasPrefix(secret, "sk-") {
		head = 7
	}
	if head > len(secret)-8 {
		head = 3
	}
	return secret[:head] + "..." + secret[len(secret)-4:]
}
