"""Small reusable rule pieces; a protocol's criteria are built from them."""
