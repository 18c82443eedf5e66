<?php
/*
 * PHP launcher: one long-lived php process that loads the action once and calls it per /run.
 * Started by the proxy before /init, in the work dir, with fd 0 = /dev/null, fd 1/2 = the
 * container's stdout/stderr, fd 3 = reply pipe, fd 4 = command pipe. The JSON-lines protocol is
 * documented in launcher.py (same for all languages).
 *
 * The action's file (index.php, after vendor/autoload.php when a zip brings one) is required
 * at global scope, as OpenWhisk's PHP runtime does, so its top-level variables are globals.
 * Everything of ours is prefixed `__pywhisk` to stay out of the action's way.
 *
 * Results: an array that is a non-empty list becomes a JSON array, any other array (including
 * the empty one) a JSON object; null counts as {} (as in OpenWhisk); other scalars reach the
 * proxy as JSON scalars, which it answers with 502.
 */

$__pywhisk_reply = fopen('php://fd/3', 'wb');
$__pywhisk_commands = fopen('php://fd/4', 'rb');

function __pywhisk_reply(string $line): void
{
    global $__pywhisk_reply;
    $line .= "\n";
    $length = strlen($line);
    for ($written = 0; $written < $length; $written += $n) {
        $n = fwrite($__pywhisk_reply, substr($line, $written));
        if ($n === false || $n === 0) {
            exit(1); // the proxy is gone
        }
    }
    fflush($__pywhisk_reply);
}

const __PYWHISK_JSON = JSON_UNESCAPED_SLASHES | JSON_UNESCAPED_UNICODE | JSON_PRESERVE_ZERO_FRACTION;

function __pywhisk_reply_error(string $message, string $prefix = ''): void
{
    __pywhisk_reply($prefix . json_encode(['error' => $message], __PYWHISK_JSON | JSON_INVALID_UTF8_SUBSTITUTE));
}

// Echo output is tracked so that the sentinel the proxy writes next starts a line of its own
// even when the action's last echo had no newline (common in PHP).
$__pywhisk_last_char = "\n";
ob_start(static function (string $chunk) use (&$__pywhisk_last_char): string {
    if ($chunk !== '') {
        $__pywhisk_last_char = substr($chunk, -1);
    }
    return $chunk;
}, 1);

function __pywhisk_flush(): void
{
    global $__pywhisk_last_char;
    // Close whatever buffers the action opened, down to ours, so their content goes out now.
    while (ob_get_level() > 1) {
        ob_end_flush();
    }
    ob_flush();
    if ($__pywhisk_last_char !== "\n") {
        echo "\n";
        ob_flush();
    }
    flush();
    fflush(STDOUT);
    fflush(STDERR);
}

function __pywhisk_location(Throwable $e, string $dir): string
{
    $file = $e->getFile();
    if (strncmp($file, $dir . '/', strlen($dir) + 1) === 0) {
        $file = substr($file, strlen($dir) + 1);
    }
    return ' in ' . $file . ' on line ' . $e->getLine();
}

function __pywhisk_encode($result): string
{
    if ($result === null) {
        $result = [];
    }
    if ($result instanceof JsonSerializable) {
        $result = $result->jsonSerialize();
    } elseif ($result instanceof ArrayObject) {
        $result = $result->getArrayCopy();
    }
    if (is_array($result) && ($result === [] || !array_is_list($result))) {
        $result = (object) $result; // {} for an empty array, an object for a map
    }
    $text = json_encode($result, __PYWHISK_JSON);
    if ($text === false) {
        return json_encode(
            ['error' => 'The action returned a result that is not valid JSON: ' . json_last_error_msg()],
            __PYWHISK_JSON | JSON_INVALID_UTF8_SUBSTITUTE
        );
    }
    return $text;
}

// --- init ------------------------------------------------------------------------------------
$__pywhisk_line = fgets($__pywhisk_commands);
if ($__pywhisk_line === false) {
    exit(0);
}
$__pywhisk_init = json_decode($__pywhisk_line, true);
foreach (($__pywhisk_init['env'] ?? []) as $__pywhisk_key => $__pywhisk_value) {
    putenv($__pywhisk_key . '=' . $__pywhisk_value);
    $_ENV[$__pywhisk_key] = $__pywhisk_value;
}
$__pywhisk_dir = $__pywhisk_init['dir'];
$__pywhisk_main = $__pywhisk_init['main'] ?? 'main';
$__pywhisk_error = null;
if (!is_file($__pywhisk_dir . '/index.php')) {
    $__pywhisk_error = $__pywhisk_init['zip']
        ? 'Zipped actions must contain index.php at the root.'
        : 'Cannot find the action\'s code (index.php).';
} else {
    try {
        if (is_file($__pywhisk_dir . '/vendor/autoload.php')) {
            require $__pywhisk_dir . '/vendor/autoload.php';
        }
        require $__pywhisk_dir . '/index.php';
        if (!is_callable($__pywhisk_main)) {
            $__pywhisk_error = "index.php has no function '" . $__pywhisk_main . "'.";
        }
    } catch (ParseError $__pywhisk_e) {
        // What php itself prints: "Parse error: syntax error, … in index.php on line N".
        $__pywhisk_error = 'Parse error: ' . $__pywhisk_e->getMessage()
            . __pywhisk_location($__pywhisk_e, $__pywhisk_dir);
        fwrite(STDERR, 'PHP ' . $__pywhisk_error . "\n");
    } catch (Throwable $__pywhisk_e) {
        $__pywhisk_error = get_class($__pywhisk_e) . ': ' . $__pywhisk_e->getMessage()
            . __pywhisk_location($__pywhisk_e, $__pywhisk_dir);
        fwrite(STDERR, (string) $__pywhisk_e . "\n");
    }
}
__pywhisk_flush();
if ($__pywhisk_error !== null) {
    __pywhisk_reply_error($__pywhisk_error);
    while (fgets($__pywhisk_commands) !== false) {
        __pywhisk_reply_error('The action failed to initialize.');
    }
    exit(0);
}
__pywhisk_reply('{"ok":true}');

// --- runs ------------------------------------------------------------------------------------
$__pywhisk_base_env = getenv();
$__pywhisk_exported = [];
while (($__pywhisk_line = fgets($__pywhisk_commands)) !== false) {
    $__pywhisk_message = json_decode($__pywhisk_line, true);
    if (!is_array($__pywhisk_message) || array_is_list($__pywhisk_message) && $__pywhisk_message !== []) {
        $__pywhisk_why = json_last_error() !== JSON_ERROR_NONE ? json_last_error_msg() : 'the /run body must be a JSON object';
        __pywhisk_reply_error('Invalid /run body: ' . $__pywhisk_why, '!');
        continue;
    }
    $__pywhisk_now = [];
    foreach ($__pywhisk_message as $__pywhisk_key => $__pywhisk_value) {
        if ($__pywhisk_key === 'value') {
            continue;
        }
        $__pywhisk_name = '__OW_' . strtoupper((string) $__pywhisk_key);
        if (!is_string($__pywhisk_value)) {
            $__pywhisk_value = json_encode($__pywhisk_value, __PYWHISK_JSON);
        }
        putenv($__pywhisk_name . '=' . $__pywhisk_value);
        $_ENV[$__pywhisk_name] = $__pywhisk_value;
        $__pywhisk_now[$__pywhisk_name] = true;
    }
    foreach ($__pywhisk_exported as $__pywhisk_name => $_) {
        if (isset($__pywhisk_now[$__pywhisk_name])) {
            continue;
        }
        if (isset($__pywhisk_base_env[$__pywhisk_name])) {
            putenv($__pywhisk_name . '=' . $__pywhisk_base_env[$__pywhisk_name]);
            $_ENV[$__pywhisk_name] = $__pywhisk_base_env[$__pywhisk_name];
        } else {
            putenv($__pywhisk_name);
            unset($_ENV[$__pywhisk_name]);
        }
    }
    $__pywhisk_exported = $__pywhisk_now;

    $__pywhisk_last_char = "\n";
    try {
        $__pywhisk_result = __pywhisk_encode(($__pywhisk_main)($__pywhisk_message['value'] ?? []));
    } catch (Throwable $__pywhisk_e) {
        fwrite(STDERR, (string) $__pywhisk_e . "\n");
        $__pywhisk_result = json_encode(['error' => $__pywhisk_e->getMessage()], __PYWHISK_JSON | JSON_INVALID_UTF8_SUBSTITUTE);
    }
    __pywhisk_flush();
    __pywhisk_reply($__pywhisk_result);
}
