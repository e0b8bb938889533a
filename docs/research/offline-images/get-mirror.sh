#!/bin/sh
# Print the Debian archive mirror URI configured for apt on this machine
# (deb822 *.sources first, then one-line *.list / sources.list). Never hard-codes a host.
# Picks the entry whose Suites/suite includes the plain codename (not -security/-updates).
codename=${1:-$(. /etc/os-release && echo "$VERSION_CODENAME")}
for f in /etc/apt/sources.list.d/*.sources; do
  [ -f "$f" ] || continue
  awk -v c="$codename" '
    BEGIN{RS=""; FS="\n"}
    { uris=""; suites=""; types=""
      for(i=1;i<=NF;i++){ if($i ~ /^URIs:/){sub(/^URIs:[ \t]*/,"",$i); uris=$i}
                          if($i ~ /^Suites:/){sub(/^Suites:[ \t]*/,"",$i); suites=" " $i " "}
                          if($i ~ /^Types:/){types=$i} }
      if (types ~ /deb( |$)/ && index(suites, " " c " ")) { split(uris,u," "); print u[1]; exit } }' "$f"
done | head -n1 | grep . && exit 0
cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null |
  awk -v c="$codename" '$1=="deb" { for(i=2;i<=NF;i++) if ($i !~ /^\[/) { if ($(i+1)==c) { print $i; exit } else break } }' | head -n1 | grep .
