"""Who is calling. The gateway verifies the client's access JWT (`access_tokens`)
and forwards the identity in a header it signs (`gateway_identity`); services trust
only that header (`authentication`)."""
