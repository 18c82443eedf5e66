<?php
// The Lambda Runtime API (2018-06-01) over plain HTTP: the one thing a PHP bootstrap needs.
// AWS_LAMBDA_RUNTIME_API is host:port of the API, set by the platform for the bootstrap.
//
// The talk's loop has no try/catch: a handler that throws ends the script, as an uncaught
// exception ends any PHP script. Before it does, the exception handler below reports it as
// Lambda expects, as the event's error (or, before the first event, as the init's), and the
// platform starts a new bootstrap for the next event.

class LambdaRuntime
{
    private string $api;
    private ?string $requestId = null;

    public function __construct()
    {
        $this->api = 'http://' . getenv('AWS_LAMBDA_RUNTIME_API') . '/2018-06-01/runtime';
        set_exception_handler(function (Throwable $e): void {
            fwrite(STDERR, (string) $e . "\n");
            $this->sendError($e);
            exit(1);
        });
    }

    // Blocks until the next event arrives; returns its body (JSON text) as Lambda sends it.
    public function getEventPayload(): string
    {
        $body = file_get_contents("{$this->api}/invocation/next");
        foreach ($http_response_header as $header) {
            if (stripos($header, 'Lambda-Runtime-Aws-Request-Id:') === 0) {
                $this->requestId = trim(substr($header, strlen('Lambda-Runtime-Aws-Request-Id:')));
            }
        }
        return $body;
    }

    public function sendResult(string $data): void
    {
        $this->post("invocation/{$this->requestId}/response", $data);
    }

    public function sendError(Throwable $e): void
    {
        $path = $this->requestId === null ? 'init/error' : "invocation/{$this->requestId}/error";
        $this->post($path, json_encode([
            'errorMessage' => $e->getMessage(),
            'errorType' => get_class($e),
            'stackTrace' => explode("\n", $e->getTraceAsString()),
        ]), get_class($e));
    }

    private function post(string $path, string $body, ?string $errorType = null): void
    {
        $headers = "Content-Type: application/json\r\n";
        if ($errorType !== null) {
            $headers .= "Lambda-Runtime-Function-Error-Type: $errorType\r\n";
        }
        file_get_contents("{$this->api}/$path", false, stream_context_create(['http' => [
            'method' => 'POST',
            'header' => $headers,
            'content' => $body,
        ]]));
    }
}
