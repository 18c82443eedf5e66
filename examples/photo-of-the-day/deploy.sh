#!/bin/sh
# Deploys the photo-of-the-day site: the render action, an alarm trigger and the rule
# between them. Usage: deploy.sh PHOTO_API_URL OUTPUT_DIR [CRON]   (CRON: every minute)
set -eu
api=$1
out=$2
cron=${3:-"* * * * *"}
here=$(dirname "$0")

wsk package update photo365 -p api "$api" -p out "$out"
wsk action update photo365/render "$here/photos.py" --kind python:default
wsk trigger delete photo-tick >/dev/null 2>&1 || true
wsk trigger create photo-tick --feed /whisk.system/alarms/alarm -p cron "$cron"
wsk rule update photo-tick-render photo-tick photo365/render
