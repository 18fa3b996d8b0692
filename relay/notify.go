package relay

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"switchyard/common/mail"
	"switchyard/common/pusher"
)

// notifyTimeout bounds one notice, whichever way it goes.
const notifyTimeout = 30 * time.Second

// notifyRoot tells the root user something an operator must know at once,
// One API's way: through Message Pusher when MessagePusherAddress is set,
// else by email to root's address when SMTP is set up and root has one;
// with neither, the log line that every caller writes is all there is.
// Best effort and off the request path: callers run in the background,
// and a failure is logged, never retried. Only the node whose write
// changed a channel's status calls it, so a change is told once.
func (r *Relay) notifyRoot(subject, body string) {
	ctx, cancel := context.WithTimeout(r.bg, notifyTimeout)
	defer cancel()
	snap := r.store.Options.Get()
	if addr := snap.String("MessagePusherAddress"); addr != "" {
		m := pusher.Message{Title: subject, Description: body, Content: body}
		if err := pusher.Send(ctx, addr, snap.String("MessagePusherToken"), m); err != nil {
			slog.Warn("could not notify root through Message Pusher", "subject", subject, "err", err)
		}
		return
	}
	to, err := r.store.RootEmail(ctx)
	if err != nil || to == "" {
		return
	}
	err = mail.Send(ctx, snap.MailSettings(), mail.Message{To: to, Subject: subject, Body: body})
	if err != nil && !errors.Is(err, mail.ErrNotConfigured) {
		slog.Warn("could not notify root by email", "subject", subject, "err", err)
	}
}

// channelName is how notices name a channel: «name» (#id).
func (r *Relay) channelName(id int) string {
	if ch := r.store.Channels.ByID(id); ch != nil && ch.Name != "" {
		return fmt.Sprintf("«%s» (#%d)", ch.Name, id)
	}
	return fmt.Sprintf("#%d", id)
}

// notifyDisabled tells root the relay disabled channel id, and why.
func (r *Relay) notifyDisabled(id int, reason string) {
	name := r.channelName(id)
	r.notifyRoot("Channel "+name+" was disabled",
		fmt.Sprintf("Switchyard disabled channel %s automatically: %s\n\nA background test enables it again once it passes (AutomaticEnableChannelEnabled), or enable it in the console.", name, reason))
}

// notifyEnabled tells root a disabled channel passed its test and serves
// again.
func (r *Relay) notifyEnabled(id int) {
	name := r.channelName(id)
	r.notifyRoot("Channel "+name+" was enabled again",
		fmt.Sprintf("Channel %s passed its test and was enabled again automatically.", name))
}
