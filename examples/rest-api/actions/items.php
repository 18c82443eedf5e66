<?php
/*
 * A REST API over one PostgreSQL table: five web actions, one entry function each, all in
 * this file (the manifest deploys it five times with a different `main`).
 *
 *   GET    /items        listItems    200 [items]
 *   POST   /items        createItem   201 item + Location     {"name": …}
 *   GET    /items/{id}   readItem     200 item | 404
 *   PUT    /items/{id}   updateItem   200 item | 404          {"name"?: …, "done"?: bool}
 *   DELETE /items/{id}   deleteItem   204 | 404
 *
 * Each action serves one method (405 with Allow otherwise). The actions keep no state: every activation connects with the PDO DSN the package passes
 * as `dsn` (a final parameter of web actions, so callers cannot point it elsewhere). Behind
 * the API gateway the id arrives as the argument `id`; called as a plain web action
 * (`…/items/read.http/7`) it is the last segment of `__ow_path`.
 */

const MAX_NAME = 200;

final class Refusal extends Exception
{
    public function __construct(public int $status, string $message)
    {
        parent::__construct($message);
    }
}

function reply(int $status, $body = null, array $headers = []): array
{
    $response = ['statusCode' => $status, 'headers' => ['Content-Type' => 'application/json'] + $headers];
    if ($body !== null) {
        $response['body'] = $body;
    }
    return $response;
}

function handle(array $args, string $method, callable $operation): array
{
    try {
        if (($args['__ow_method'] ?? '') !== $method) {
            return reply(405, ['error' => 'use ' . strtoupper($method)], ['Allow' => strtoupper($method)]);
        }
        $db = new PDO($args['dsn'], null, null, [
            PDO::ATTR_ERRMODE => PDO::ERRMODE_EXCEPTION,
            PDO::ATTR_DEFAULT_FETCH_MODE => PDO::FETCH_ASSOC,
        ]);
        return $operation($db, $args);
    } catch (Refusal $r) {
        return reply($r->status, ['error' => $r->getMessage()]);
    } catch (PDOException $e) {
        error_log('database: ' . $e->getMessage());  // to the activation's logs, not the caller
        return reply(503, ['error' => 'the database is unavailable']);
    }
}

function item_id(array $args): int
{
    $given = $args['id'] ?? basename(trim($args['__ow_path'] ?? '', '/'));
    if (!is_string($given) && !is_int($given) || !preg_match('/^[1-9][0-9]{0,9}$/', (string) $given)) {
        throw new Refusal(400, 'the item id must be a positive integer');
    }
    return (int) $given;
}

function item_name(array $args, bool $required): ?string
{
    if (!array_key_exists('name', $args)) {
        if ($required) {
            throw new Refusal(400, 'name is required');
        }
        return null;
    }
    $name = is_string($args['name']) ? trim($args['name']) : '';
    if (!preg_match('/^.{1,' . MAX_NAME . '}$/us', $name)) {
        throw new Refusal(400, 'name must be 1 to ' . MAX_NAME . ' characters of text');
    }
    return $name;
}

function shaped(array $row): array
{
    return ['id' => (int) $row['id'], 'name' => $row['name'], 'done' => (bool) $row['done']];
}

function found(PDOStatement $query, int $id): array
{
    $row = $query->fetch();
    if ($row === false) {
        throw new Refusal(404, "no item $id");
    }
    return shaped($row);
}

function listItems(array $args): array
{
    return handle($args, 'get', function (PDO $db) {
        $rows = $db->query('SELECT id, name, done FROM items ORDER BY id')->fetchAll();
        return reply(200, array_map('shaped', $rows));
    });
}

function createItem(array $args): array
{
    return handle($args, 'post', function (PDO $db, array $args) {
        $query = $db->prepare('INSERT INTO items (name) VALUES (?) RETURNING id, name, done');
        $query->execute([item_name($args, true)]);
        $item = shaped($query->fetch());
        return reply(201, $item, ['Location' => "items/{$item['id']}"]);
    });
}

function readItem(array $args): array
{
    return handle($args, 'get', function (PDO $db, array $args) {
        $id = item_id($args);
        $query = $db->prepare('SELECT id, name, done FROM items WHERE id = ?');
        $query->execute([$id]);
        return reply(200, found($query, $id));
    });
}

function updateItem(array $args): array
{
    return handle($args, 'put', function (PDO $db, array $args) {
        $id = item_id($args);
        $name = item_name($args, false);
        $done = $args['done'] ?? null;
        if ($done !== null && !is_bool($done)) {
            throw new Refusal(400, 'done must be true or false');
        }
        $query = $db->prepare(
            'UPDATE items SET name = COALESCE(?, name), done = COALESCE(?, done) WHERE id = ? '
            . 'RETURNING id, name, done'
        );
        $query->bindValue(1, $name, $name === null ? PDO::PARAM_NULL : PDO::PARAM_STR);
        $query->bindValue(2, $done, $done === null ? PDO::PARAM_NULL : PDO::PARAM_BOOL);
        $query->bindValue(3, $id, PDO::PARAM_INT);
        $query->execute();
        return reply(200, found($query, $id));
    });
}

function deleteItem(array $args): array
{
    return handle($args, 'delete', function (PDO $db, array $args) {
        $id = item_id($args);
        $query = $db->prepare('DELETE FROM items WHERE id = ?');
        $query->execute([$id]);
        if ($query->rowCount() === 0) {
            throw new Refusal(404, "no item $id");
        }
        return reply(204);
    });
}
