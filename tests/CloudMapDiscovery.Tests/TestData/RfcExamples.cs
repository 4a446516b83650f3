namespace CloudMapDiscovery.Tests.TestData;

/// <summary>
/// Hand-assembled DNS replies for codec tests, in the spirit of the compression example of RFC 1035
/// section 4.1.4 (a name as labels ending in a pointer into the middle of an earlier name), plus
/// malformed variants a parser must reject. Offsets are decimal; each property returns a fresh array.
/// </summary>
public static class RfcExamples
{
    /// <summary>
    /// Reply (ID 0x1234, QR AA RD, NOERROR) to <c>web.internal A</c>: two A records whose owner is a
    /// pointer to the question name at offset 12. Expect 127.0.0.2 and 127.0.0.3, TTL 60 s. 62 bytes.
    /// </summary>
    public static byte[] CompressedA =>
    [
        0x12, 0x34, 0x85, 0x00, 0x00, 0x01, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, // header: QD 1, AN 2
        0x03, (byte)'w', (byte)'e', (byte)'b', // @12 question name
        0x08, (byte)'i', (byte)'n', (byte)'t', (byte)'e', (byte)'r', (byte)'n', (byte)'a', (byte)'l', 0x00,
        0x00, 0x01, 0x00, 0x01, // @26 A, IN
        0xC0, 0x0C, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x00, 0x3C, 0x00, 0x04, 127, 0, 0, 2, // @30 web.internal A 60 127.0.0.2
        0xC0, 0x0C, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x00, 0x3C, 0x00, 0x04, 127, 0, 0, 3, // @46 web.internal A 60 127.0.0.3
    ];

    /// <summary>
    /// Reply (ID 0x4321) to <c>alias.web.internal A</c>:
    /// <c>alias.web.internal CNAME app.internal</c> (TTL 30), where the target is the label <c>app</c> followed by
    /// a pointer to offset 22 (the <c>internal</c> label inside the question name), and
    /// <c>app.internal A 127.0.0.7</c> (TTL 60), whose owner is a pointer to offset 48, inside the CNAME's RDATA.
    /// 70 bytes.
    /// </summary>
    public static byte[] PointerIntoRdata =>
    [
        0x43, 0x21, 0x85, 0x00, 0x00, 0x01, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, // header: QD 1, AN 2
        0x05, (byte)'a', (byte)'l', (byte)'i', (byte)'a', (byte)'s', // @12
        0x03, (byte)'w', (byte)'e', (byte)'b', // @18
        0x08, (byte)'i', (byte)'n', (byte)'t', (byte)'e', (byte)'r', (byte)'n', (byte)'a', (byte)'l', // @22
        0x00, // @31 root
        0x00, 0x01, 0x00, 0x01, // @32 A, IN
        0xC0, 0x0C, 0x00, 0x05, 0x00, 0x01, 0x00, 0x00, 0x00, 0x1E, 0x00, 0x06, // @36 alias.web.internal CNAME 30, RDLENGTH 6
        0x03, (byte)'a', (byte)'p', (byte)'p', 0xC0, 0x16, // @48 app + pointer to @22 = app.internal
        0xC0, 0x30, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x00, 0x3C, 0x00, 0x04, 127, 0, 0, 7, // @54 app.internal A 60 127.0.0.7
    ];

    /// <summary>
    /// Reply (ID 0x5555) to <c>svc.internal SRV</c>: <c>1 1 3000 task-a.svc.internal</c> (TTL 10) with the target
    /// compressed (label <c>task-a</c> + pointer to offset 12; BIND does not compress SRV targets, other servers
    /// may, and RFC 3597 asks receivers to cope), and in the additional section
    /// <c>task-a.svc.internal A 127.0.0.11</c> (TTL 10), owner = pointer to offset 48 inside the SRV RDATA. 73 bytes.
    /// </summary>
    public static byte[] SrvWithCompressedTarget =>
    [
        0x55, 0x55, 0x85, 0x00, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, // header: QD 1, AN 1, AR 1
        0x03, (byte)'s', (byte)'v', (byte)'c', // @12
        0x08, (byte)'i', (byte)'n', (byte)'t', (byte)'e', (byte)'r', (byte)'n', (byte)'a', (byte)'l', 0x00, // @16
        0x00, 0x21, 0x00, 0x01, // @26 SRV, IN
        0xC0, 0x0C, 0x00, 0x21, 0x00, 0x01, 0x00, 0x00, 0x00, 0x0A, 0x00, 0x0F, // @30 svc.internal SRV 10, RDLENGTH 15
        0x00, 0x01, 0x00, 0x01, 0x0B, 0xB8, // @42 priority 1, weight 1, port 3000
        0x06, (byte)'t', (byte)'a', (byte)'s', (byte)'k', (byte)'-', (byte)'a', 0xC0, 0x0C, // @48 task-a + pointer to @12
        0xC0, 0x30, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x00, 0x0A, 0x00, 0x04, 127, 0, 0, 11, // @57 additional A
    ];

    /// <summary>Malformed: like <see cref="CompressedA"/> with one answer whose owner name is a pointer to itself (offset 30). A parser must fail, not loop.</summary>
    public static byte[] PointerLoop =>
    [
        0x66, 0x66, 0x85, 0x00, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00,
        0x03, (byte)'w', (byte)'e', (byte)'b',
        0x08, (byte)'i', (byte)'n', (byte)'t', (byte)'e', (byte)'r', (byte)'n', (byte)'a', (byte)'l', 0x00,
        0x00, 0x01, 0x00, 0x01,
        0xC0, 0x1E, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x00, 0x3C, 0x00, 0x04, 127, 0, 0, 2, // @30 pointer to @30
    ];

    /// <summary>Malformed: two pointers that point at each other (offsets 30 and 46 hold pointers to 46 and 30).</summary>
    public static byte[] PointerCycle =>
    [
        0x66, 0x67, 0x85, 0x00, 0x00, 0x01, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00,
        0x03, (byte)'w', (byte)'e', (byte)'b',
        0x08, (byte)'i', (byte)'n', (byte)'t', (byte)'e', (byte)'r', (byte)'n', (byte)'a', (byte)'l', 0x00,
        0x00, 0x01, 0x00, 0x01,
        0xC0, 0x2E, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x00, 0x3C, 0x00, 0x04, 127, 0, 0, 2, // @30 pointer to @46
        0xC0, 0x1E, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x00, 0x3C, 0x00, 0x04, 127, 0, 0, 3, // @46 pointer to @30
    ];

    /// <summary>Malformed: the answer's owner is a pointer to offset 255, past the end of the 46-byte message.</summary>
    public static byte[] PointerOutOfRange =>
    [
        0x77, 0x77, 0x85, 0x00, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00,
        0x03, (byte)'w', (byte)'e', (byte)'b',
        0x08, (byte)'i', (byte)'n', (byte)'t', (byte)'e', (byte)'r', (byte)'n', (byte)'a', (byte)'l', 0x00,
        0x00, 0x01, 0x00, 0x01,
        0xC0, 0xFF, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x00, 0x3C, 0x00, 0x04, 127, 0, 0, 2,
    ];

    /// <summary>Malformed: <see cref="CompressedA"/> claiming three answers (ANCOUNT 3) while holding two.</summary>
    public static byte[] AnswerCountTooLarge
    {
        get
        {
            var m = CompressedA;
            m[7] = 3;
            return m;
        }
    }

    /// <summary>Malformed: <see cref="CompressedA"/> cut two bytes into the second answer's RDATA (RDLENGTH says 4).</summary>
    public static byte[] RdataTruncated => CompressedA[..^2];

    /// <summary>Malformed: <see cref="CompressedA"/> cut inside the fixed header (7 bytes).</summary>
    public static byte[] HeaderTruncated => CompressedA[..7];

    /// <summary>Malformed: the first label length byte of the question is 0x41 (top bits 01: a reserved label type, not a 65-byte label).</summary>
    public static byte[] ReservedLabelType
    {
        get
        {
            var m = CompressedA;
            m[12] = 0x41;
            return m;
        }
    }

    /// <summary>
    /// Malformed: a query-shaped reply (ID 0x8888, QD 1, no answers) whose question name has four 63-byte
    /// labels: 4 x 64 + 1 = 257 octets, over the 255-octet limit of RFC 1035 section 2.3.4.
    /// </summary>
    public static byte[] NameTooLong
    {
        get
        {
            var m = new List<byte> { 0x88, 0x88, 0x85, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00 };
            for (var label = 0; label < 4; label++)
            {
                m.Add(63);
                m.AddRange(Enumerable.Repeat((byte)('a' + label), 63));
            }

            m.AddRange([0x00, 0x00, 0x01, 0x00, 0x01]);
            return [.. m];
        }
    }
}
