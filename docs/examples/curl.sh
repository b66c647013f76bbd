#!/bin/sh
# Switchboard HTTP API with curl. Set SWITCHBOARD_URL and SWITCHBOARD_API_KEY first.
: "${SWITCHBOARD_URL:=http://localhost:3000}"
AUTH="Authorization: Bearer $SWITCHBOARD_API_KEY"

# Publish an event to two users and a room (answers {"targets":3})
curl -s "$SWITCHBOARD_URL/api/v1/publish" -H "$AUTH" -H 'content-type: application/json' \
  -d '{"event":"order:shipped","data":{"id":7},"users":["42","43"],"rooms":["<room id>"]}'

# Send to every connection of user 42 in the /push namespace
curl -s "$SWITCHBOARD_URL/api/v1/users/42/send?namespace=/push" -H "$AUTH" -H 'content-type: application/json' \
  -d '{"event":"notice","data":"hello"}'

# Bind an anonymous /push connection (its id came in its client:hello event) to user 42
curl -s -X PUT "$SWITCHBOARD_URL/api/v1/clients/<client id>/user?namespace=/push" -H "$AUTH" \
  -H 'content-type: application/json' -d '{"userId":"42"}'

# Is user 42 online?
curl -s "$SWITCHBOARD_URL/api/v1/users/42?namespace=/push" -H "$AUTH"
