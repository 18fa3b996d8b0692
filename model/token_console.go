package model

import "context"

// ConsoleToken is userID's token id in the shape the relay checks, read
// from its row: the console's playground names a token by id because the
// key itself is stored only as a hash. Another user's token is
// ErrTokenNotFound, as in every token endpoint.
func (s *Store) ConsoleToken(ctx context.Context, userID, id int) (*CachedToken, error) {
	if userID <= 0 {
		// TokenOf reads 0 as "any user's"; a console caller is always someone.
		return nil, ErrTokenNotFound
	}
	row, err := s.TokenOf(ctx, userID, id)
	if err != nil {
		return nil, err
	}
	return cacheToken(row), nil
}
