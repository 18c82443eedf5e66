<?php
function hello($eventData)
{
    $data = json_decode($eventData, true, 512,
        JSON_THROW_ON_ERROR);

    $name = $data['name']  ?? 'World';

    return json_encode(['msg' => "Hello $name"]);
}
