<?php
/**
 * The contact form's web action: validates what the form posted, then redirects the
 * browser to the thank-you page (303 See Other, so a reload does not post again) or
 * answers 400 with an HTML page that lists what to fix.
 *
 * Parameters bound at deploy time (final: a caller cannot replace them):
 *   thanks_url  where to send the browser after a successful post
 *   form_url    the page with the form, linked from the error page
 */

const MAX_MESSAGE = 5000;

function main(array $args): array
{
    if (($args['__ow_method'] ?? '') !== 'post') {
        $refusal = '<p>This address only accepts the contact form.</p>';
        return page(405, 'Method not allowed', $refusal, $args, ['Allow' => 'POST']);
    }
    $name = trim((string)($args['name'] ?? ''));
    $email = trim((string)($args['email'] ?? ''));
    $message = trim((string)($args['message'] ?? ''));

    $problems = [];
    if ($name === '') {
        $problems[] = 'Please tell us your name.';
    }
    if (filter_var($email, FILTER_VALIDATE_EMAIL) === false) {
        $problems[] = 'Please give an email address we can answer to.';
    }
    if ($message === '') {
        $problems[] = 'Please write a message.';
    } elseif (preg_match_all("/./su", $message) > MAX_MESSAGE) {  // characters, not bytes
        $problems[] = 'Please keep your message under ' . MAX_MESSAGE . ' characters.';
    }
    if (($args['website'] ?? '') !== '') {
        // the hidden honeypot field: people leave it empty, form-filling robots do not
        $problems[] = 'Your message looks automated.';
    }
    if ($problems) {
        $items = implode('', array_map(fn ($p) => '<li>' . html($p) . '</li>', $problems));
        return page(400, 'Your message was not sent', "<ul>$items</ul>", $args);
    }

    // Delivery goes here (a mail API, a ticket system). This example writes the message
    // to the activation's log, where `wsk activation logs` shows it.
    echo json_encode(['contact' => ['name' => $name, 'email' => $email, 'message' => $message]]), "\n";

    return [
        'statusCode' => 303,
        'headers' => ['Location' => $args['thanks_url'] ?? '/'],
    ];
}

function html(string $text): string
{
    return htmlspecialchars($text, ENT_QUOTES | ENT_HTML5, 'UTF-8');
}

function page(int $status, string $title, string $content, array $args, array $headers = []): array
{
    $back = '';
    if (isset($args['form_url'])) {
        $back = '<p><a href="' . html($args['form_url']) . '">Back to the form</a></p>';
    }
    $body = "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>" . html($title)
        . "</title></head>\n<body><h1>" . html($title) . "</h1>\n$content\n$back</body></html>\n";
    return [
        'statusCode' => $status,
        'headers' => ['Content-Type' => 'text/html; charset=UTF-8'] + $headers,
        'body' => $body,
    ];
}
