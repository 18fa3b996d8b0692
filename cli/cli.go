// Package cli is Switchyard's command line for servers with no browser:
// `switchyard channel add` and `switchyard channel list` work on the
// configured database directly.
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"switchyard/common/config"
	"switchyard/common/crypto"
	"switchyard/model"
)

// IsCommand reports whether args (without the program name) name a CLI
// command rather than server flags.
func IsCommand(args []string) bool { return len(args) > 0 && args[0] == "channel" }

// Run executes the command in args with the environment getenv and
// returns the process exit code.
func Run(args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	if err := run(args, getenv, stdout, stderr); err != nil {
		fmt.Fprintln(stderr, "switchyard:", err)
		return 1
	}
	return 0
}

const usage = `usage:
  switchyard channel add --key KEY [--base-url URL] [--type N] [--name NAME]
                         [--models a,b] [--group g1,g2] [--priority N] [--weight N]
  switchyard channel list
The database is the one the server uses: SQL_DSN, or SQLite at SQLITE_PATH.`

func run(args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) < 2 || args[0] != "channel" {
		return errors.New(usage)
	}
	switch args[1] {
	case "add":
		return add(args[2:], getenv, stdout)
	case "list":
		if len(args) > 2 {
			return errors.New(usage)
		}
		return list(getenv, stdout)
	}
	return errors.New(usage)
}

func open(getenv func(string) string) (*model.Store, context.Context, context.CancelFunc, error) {
	cfg, err := config.Load(nil, getenv)
	if err != nil {
		return nil, nil, nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	s, err := model.OpenTool(ctx, cfg)
	if err != nil {
		cancel()
		return nil, nil, nil, err
	}
	return s, ctx, cancel, nil
}

func add(args []string, getenv func(string) string, stdout io.Writer) error {
	fs := flag.NewFlagSet("channel add", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	key := fs.String("key", "", "the upstream API key (required; several keys separated by newlines make several channels)")
	baseURL := fs.String("base-url", "", "the upstream base URL (required for type 8, custom)")
	typ := fs.Int("type", 1, "channel type, One API's numbers (1 OpenAI, 8 custom, ...)")
	name := fs.String("name", "", "a name to show")
	models := fs.String("models", "gpt-4o-mini,gpt-4o", "comma list of models the channel serves")
	group := fs.String("group", "default", "comma list of groups the channel serves")
	priority := fs.Int64("priority", 0, "higher is tried first")
	weight := fs.Int("weight", 0, "share inside its priority tier")
	if err := fs.Parse(args); err != nil {
		return fmt.Errorf("%v\n%s", err, usage)
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q\n%s", fs.Arg(0), usage)
	}
	var chans []*model.Channel
	for _, k := range strings.Split(*key, "\n") {
		if k = strings.TrimSpace(k); k != "" {
			chans = append(chans, &model.Channel{Type: *typ, Key: k, Name: *name, BaseURL: *baseURL, Models: *models, Group: *group, Priority: *priority, Weight: *weight})
		}
	}
	if len(chans) == 0 {
		return fmt.Errorf("--key is required\n%s", usage)
	}
	s, ctx, cancel, err := open(getenv)
	if err != nil {
		return err
	}
	defer cancel()
	defer s.Close()
	if err := s.CreateChannels(ctx, chans); err != nil {
		return err
	}
	for _, ch := range chans {
		fmt.Fprintf(stdout, "added channel %d (%s)\n", ch.ID, ch.Name)
	}
	return nil
}

func list(getenv func(string) string, stdout io.Writer) error {
	s, ctx, cancel, err := open(getenv)
	if err != nil {
		return err
	}
	defer cancel()
	defer s.Close()
	chans, err := s.AllChannels(ctx)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tNAME\tTYPE\tSTATUS\tPRIORITY\tWEIGHT\tGROUP\tMODELS\tBASE URL\tKEY")
	for i := range chans {
		ch := &chans[i]
		key, err := s.ChannelKey(ch)
		if err != nil {
			key = "(sealed)"
		} else {
			key = crypto.Mask(key)
		}
		fmt.Fprintf(tw, "%d\t%s\t%d\t%s\t%d\t%d\t%s\t%s\t%s\t%s\n", ch.ID, ch.Name, ch.Type, statusName(ch.Status), ch.Priority, ch.Weight, ch.Group, ch.Models, ch.EffectiveBaseURL(), key)
	}
	return tw.Flush()
}

func statusName(s int) string {
	switch s {
	case model.ChannelEnabled:
		return "enabled"
	case model.ChannelManuallyDisabled:
		return "disabled"
	case model.ChannelAutoDisabled:
		return "auto-disabled"
	}
	return fmt.Sprint(s)
}
