<?php
// Project 365's update function, cut down to what the platform gives it: its settings from
// `environment:` (in the process environment, as on Lambda) and the event from the schedule.
function main($eventData)
{
    $data = json_decode($eventData, true, 512, JSON_THROW_ON_ERROR);
    $year = $data['year'] ?? (int) date('Y');

    return json_encode([
        'user' => getenv('FLICKR_USER_ID'),
        'keySet' => getenv('FLICKR_API_KEY') !== false,
        'year' => $year,
    ]);
}
