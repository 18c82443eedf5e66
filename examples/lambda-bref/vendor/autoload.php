<?php
// A Bref-style runtime helper in one file: lambda($handler) serves events to $handler for ever,
// through the Lambda Runtime API, with arrays in and out (JSON on the wire).

function lambda(callable $handler): void
{
    $api = 'http://' . getenv('AWS_LAMBDA_RUNTIME_API') . '/2018-06-01/runtime';
    while (true) {
        $event = file_get_contents("$api/invocation/next");
        $id = '';
        foreach ($http_response_header as $header) {
            if (stripos($header, 'Lambda-Runtime-Aws-Request-Id:') === 0) {
                $id = trim(substr($header, 30));
            }
        }
        try {
            $path = "invocation/$id/response";
            $body = json_encode($handler(json_decode($event, true)));
            $headers = "Content-Type: application/json\r\n";
        } catch (Throwable $e) {
            $path = "invocation/$id/error";
            $body = json_encode(['errorMessage' => $e->getMessage(), 'errorType' => get_class($e)]);
            $headers = "Lambda-Runtime-Function-Error-Type: " . get_class($e) . "\r\n";
        }
        file_get_contents("$api/$path", false, stream_context_create(['http' => [
            'method' => 'POST', 'header' => $headers, 'content' => $body,
        ]]));
    }
}
