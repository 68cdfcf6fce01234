"""The shared service fixtures really reach their servers."""


def test_postgres_database_is_usable(pg_database):
    with pg_database.connect() as conn, conn.cursor() as cur:
        cur.execute("select current_database()")
        assert cur.fetchone()[0] == pg_database.name


def test_redis_prefix_is_cleaned(redis_prefix):
    import redis

    client = redis.Redis.from_url("redis://127.0.0.1:6379/0")
    client.set(redis_prefix + "k", "v")
    assert client.get(redis_prefix + "k") == b"v"


def test_s3_bucket_roundtrip(s3_server, s3_bucket):
    client = s3_server.boto3_client()
    client.put_object(Bucket=s3_bucket, Key="x/y.txt", Body=b"hello")
    assert client.get_object(Bucket=s3_bucket, Key="x/y.txt")["Body"].read() == b"hello"
