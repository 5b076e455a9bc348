"""The daemon's WebSocket: the server side, its protocol, and the client a remote dashboard uses."""
