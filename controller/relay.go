package controller

import (
	"switchyard/model"
	"switchyard/relay"
)

// Relay carries what the channel, model and /v1 handlers need: the store
// and the relay engine. The router builds one.
type Relay struct {
	Store  *model.Store
	Engine *relay.Relay
}
