#!/bin/sh
# The tests' keyboard-interactive driver: ssh runs it (SSH_ASKPASS, SSH_ASKPASS_REQUIRE=force)
# once for every prompt sshd sends, with the prompt's text as $1, and sends what it prints as
# the answer. Everything it does is decided by files in $ASKPASS_DIR (ssh_lib.sh's ssh_kbd
# writes them):
#   prompts    every prompt seen is appended, followed by a line "--"
#   count      how many prompts so far; past $ASKPASS_MAX (default 4) it answers nothing and
#              fails, so a module that asks forever cannot loop
#   rules      optional lines "ERE<TAB>ANSWER": the first ERE matching the prompt gives the
#              answer (an empty ANSWER is pressing Enter)
#   secret     the answer to any other prompt (a password, or a token typed as the password)
# A prompt holding a URL and a user code (XXXX-XXXX) is a device-code prompt: the code and
# URLs go to "device" (code, verification URL, complete URL, one per line), the callback
# $ASKPASS_DEVICE_CB (if set) runs with them as arguments (its output in callback.out, its
# status in callback.rc), and the answer is Enter — as a person would, after approving in a
# browser. Rules come first, so a test can answer a device prompt otherwise.
# shellcheck shell=sh
set -u
prompt=${1-}
dir=${ASKPASS_DIR:?ASKPASS_DIR is not set}
n=$(( $(cat "$dir/count" 2>/dev/null || echo 0) + 1 ))
echo "$n" >"$dir/count"
printf '%s\n--\n' "$prompt" >>"$dir/prompts"
[ "$n" -le "${ASKPASS_MAX:-4}" ] || exit 1

if [ -f "$dir/rules" ]; then
	tab=$(printf '\t')
	while IFS=$tab read -r re answer; do
		[ -n "$re" ] || continue
		if printf '%s\n' "$prompt" | grep -Eq -- "$re"; then
			printf '%s\n' "$answer"
			exit 0
		fi
	done <"$dir/rules"
fi

# A SAML login prompt holds a one-time link on the node (…/saml/login/CODE): "saml" and the
# link go to "device", the callback runs with them as arguments (a browser signing in), and
# the answer is Enter.
saml=$(printf '%s\n' "$prompt" | grep -Eo 'https://[^][ "<>()]+/saml/login/[0-9a-f]+' | head -n 1)
if [ -n "$saml" ]; then
	printf 'saml\n%s\n' "$saml" >"$dir/device"
	if [ -n "${ASKPASS_DEVICE_CB:-}" ]; then
		$ASKPASS_DEVICE_CB saml "$saml" >"$dir/callback.out" 2>&1 </dev/null
		echo $? >"$dir/callback.rc"
	fi
	echo
	exit 0
fi

# URLs end at white space or a closing quote/bracket; trailing punctuation is the sentence's.
urls=$(printf '%s\n' "$prompt" | grep -Eo 'https?://[^][ "<>()]+' | sed 's/[.,;:!]*$//')
code=$(printf '%s\n' "$prompt" | grep -Eo '(^|[^A-Za-z0-9])[A-Z0-9]{4}-[A-Z0-9]{4}([^A-Za-z0-9]|$)' |
	head -n 1 | grep -Eo '[A-Z0-9]{4}-[A-Z0-9]{4}')
if [ -n "$urls" ] && [ -n "$code" ]; then
	vuri=$(printf '%s\n' "$urls" | grep -v 'user_code=' | head -n 1)
	complete=$(printf '%s\n' "$urls" | grep 'user_code=' | head -n 1)
	[ -n "$vuri" ] || vuri=${complete%%\?*}
	printf '%s\n%s\n%s\n' "$code" "$vuri" "$complete" >"$dir/device"
	if [ -n "${ASKPASS_DEVICE_CB:-}" ]; then
		# The callback's own output must not become the answer.
		$ASKPASS_DEVICE_CB "$code" "$vuri" "$complete" >"$dir/callback.out" 2>&1 </dev/null
		echo $? >"$dir/callback.rc"
	fi
	echo
	exit 0
fi

if [ -f "$dir/secret" ]; then
	cat "$dir/secret"
	exit 0
fi
exit 1
