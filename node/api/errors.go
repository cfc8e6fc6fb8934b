package api

import (
	"errors"
	"net/http"
)

// Error is an error that crosses the socket with a stable code, so a
// client can branch on it with errors.Is against the values below.
type Error struct {
	Code    string `json:"code"`
	Message string `json:"error"`
}

func (e *Error) Error() string { return e.Message }

// Is matches on the code, so a decoded error equals its sentinel.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Code == e.Code
}

// Sentinels. Wrap them with context that tells the user what to do; the
// wrapped text travels, the code lets callers branch.
var (
	ErrNoSuchContact = &Error{Code: "no_such_contact", Message: "no such contact"}
	ErrContactExists = &Error{Code: "contact_exists", Message: "contact already exists"}
	ErrInvalid       = &Error{Code: "invalid", Message: "invalid request"}
	ErrInternal      = &Error{Code: "internal", Message: "internal error"}
)

// HTTPStatus maps an error to the status the server answers with.
func HTTPStatus(err error) int {
	switch {
	case errors.Is(err, ErrNoSuchContact):
		return http.StatusNotFound
	case errors.Is(err, ErrContactExists):
		return http.StatusConflict
	case errors.Is(err, ErrInvalid):
		return http.StatusBadRequest
	default:
		return http.StatusInternalServerError
	}
}

// ToError turns any error into the form sent over the socket, keeping the
// full text for the user and the code of the sentinel it wraps.
func ToError(err error) *Error {
	var e *Error
	code := ErrInternal.Code
	if errors.As(err, &e) {
		code = e.Code
	}
	return &Error{Code: code, Message: err.Error()}
}
