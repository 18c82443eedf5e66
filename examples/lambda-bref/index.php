<?php

require __DIR__.'/vendor/autoload.php';

lambda(function (array $event) {
    $name = $event['name']  ?? 'World';
    return ['msg' => "Hello $name"];
});
