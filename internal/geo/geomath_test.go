package geo

import "testing"

// Correctly rounded values computed with 300-bit arithmetic (mpmath), including arguments whose
// results lie close to a rounding boundary, where Go's math package and a naive evaluation err.
var crSinCosCases = []struct{ x, sin, cos float64 }{
	{0x1.c04eae88e7fb4p-1, 0x1.892de0e9c7c35p-1, 0x1.47f45557e8d86p-1},
	{-0x1.7dd0bb12edd36p+1, -0x1.4393140b2e3c9p-3, -0x1.f991b76133617p-1},
	{-0x1.69ae4d32a0648p+0, -0x1.f99fc36218829p-1, 0x1.42332689d873ap-3},
	{-0x1.bcfd124ceb204p+0, -0x1.f8d6e7fbd7aefp-1, -0x1.55514792b5f94p-3},
	{0x1.7c2b87d86ffb6p+0, 0x1.fe1e533ee228ap-1, 0x1.5ed4a8e326d7ep-4},
	{0x1.1c1383efb97eap+0, 0x1.ca85f0ce3fd7ap-1, 0x1.c7a22c90f1df1p-2},
	{0x1.3b3fe756cc65dp+1, 0x1.416d1a6663bd3p-1, -0x1.8e88a8a221a4ep-1},
	{-0x1.4c08fb9406fe0p+1, -0x1.0a8dc2847076fp-1, -0x1.b52457e76b975p-1},
	{-0x1.f619528a4ab48p-2, -0x1.e2384ca5e7c4cp-2, 0x1.c3acb5b4b7180p-1},
	{-0x1.79f7c1f21b024p+1, -0x1.8034f1778e11cp-3, -0x1.f6e8dbda0da84p-1},
	{-0x1.c45710d65d4dcp+0, -0x1.f62e678944c5ep-1, -0x1.8f289aa6bc882p-3},
	{0x1.1381c200b1a40p-5, 0x1.1374768933a28p-5, 0x1.ffb5e1c7b75f2p-1},
	{-0x1.7c96de13c41efp+1, -0x1.56edf0b469577p-3, -0x1.f8c56d33570ecp-1},
	{-0x1.e42c352207590p+0, -0x1.e5ed6ba4dd9b5p-1, -0x1.429af279e947ep-2},
	{0x1.e1eeb376095a4p-1, 0x1.9ddaad26a4862p-1, 0x1.2d71c10d97a97p-1},
	{0x1.21018e5658c88p-2, 0x1.1d2f3d0685ddep-2, 0x1.ebbe472624970p-1},
	{-0x1.c1712845ba199p+0, -0x1.f7475be3391f3p-1, -0x1.7864bc24da3e0p-3},
	{0x1.1f057486d9b44p-1, 0x1.1038fa7bce1e1p-1, 0x1.b1a26df63fcf6p-1},
	{0x1.f17714809d55ep+0, 0x1.dce69e65ee10ep-1, -0x1.749c30b1aee66p-2},
	{-0x1.8cb22f7b6f5e9p+1, -0x1.5b46cbf8f4699p-5, -0x1.ff8a2c310b200p-1},
	{0x1.eba8d4a67c31ep+0, 0x1.e100c1a762623p-1, -0x1.5ee2afb0a7c32p-2},
	{0x1.3e8b743f2b28ap+0, 0x1.e4f45c04ec51fp-1, 0x1.4868aefd29906p-2},
	{-0x1.00d377fca393ep+0, -0x1.afb93971b616fp-1, 0x1.133e3f0895dadp-1},
	{-0x1.14f079d2af6e3p+1, -0x1.a8a500072f4c1p-1, -0x1.1e0b329ac0ca3p-1},
	{0x1.6f86b2283c633p+1, 0x1.116c765daf28dp-2, -0x1.ed6913487d98cp-1},
	{-0x1.06b4247c198e2p+0, -0x1.b5edbb4436ea7p-1, 0x1.094262dd15c22p-1},
	{-0x1.475dff9743d0ep+1, -0x1.1a508fc5643d5p-1, -0x1.ab21fe04a39cbp-1},
	{-0x1.442cee11b093ap+1, -0x1.24e0596c00d7ep-1, -0x1.a3f61333f662dp-1},
	{0x1.175472747b0d3p+1, 0x1.a33a8a245a497p-1, -0x1.25ec8bba30017p-1},
	{0x1.4d843b748e648p-1, 0x1.366cf139b35a7p-1, 0x1.97292ecbbc03cp-1},
	{0x1.edc394595f2e2p+0, 0x1.df8b62007626cp-1, -0x1.66c828656c283p-2},
	{0x1.7155cf9734bdep+0, 0x1.fbce5f64f2bc9p-1, 0x1.0597baa7c0730p-3},
	{0x1.d1f207580a5e0p-3, 0x1.cdefa5061025ap-3, 0x1.f2ce56e9aedacp-1},
	{0x1.7c4f333f3b73fp+1, 0x1.5b5837746953fp-3, -0x1.f8951dace0d16p-1},
	{-0x1.868e42ad20edcp-1, -0x1.61c45ce3d9139p-1, 0x1.7220203bea736p-1},
	{0x1.4ea8a26bab1e0p-2, 0x1.48bbab49076e3p-2, 0x1.e4e64d67f6cc0p-1},
	{0x1.08c9e4a8c4069p+1, 0x1.c1d867409d0bdp-1, -0x1.e903122fbbc38p-2},
	{0x1.7d156b75ccfecp-1, 0x1.5adc0b73b9faap-1, 0x1.789b4350a64bfp-1},
	{0x1.22c12541c6ef3p+1, 0x1.875c51acf5a13p-1, -0x1.4a1f5c1265859p-1},
	{0x1.f16e13a9ede38p-2, 0x1.de189a04aa910p-2, 0x1.c4c4f02ca78d9p-1},
	{0x1.b7508e6ac8c28p-22, 0x1.b7508e6ac8b50p-22, 0x1.ffffffffffd0ep-1},
	{-0x1.e7aad7c21dd2fp-21, -0x1.e7aad7c21d893p-21, 0x1.ffffffffff17cp-1},
	{-0x1.242ac0a187beap-21, -0x1.242ac0a187aecp-21, 0x1.ffffffffffacap-1},
	{-0x1.c4493105215d6p-22, -0x1.c4493105214ebp-22, 0x1.ffffffffffce1p-1},
	{-0x1.c331e6e094520p-21, -0x1.c331e6e09417ap-21, 0x1.ffffffffff393p-1},
	{0x1.921fb54442d18p+0, 0x1.0000000000000p+0, 0x1.1a62633145c07p-54},
	{0x1.921fb54442d18p+1, 0x1.1a62633145c07p-53, -0x1.0000000000000p+0},
	{-0x1.921fb54442d18p+1, -0x1.1a62633145c07p-53, -0x1.0000000000000p+0},
	{0x1.0000000000000p-1, 0x1.eaee8744b05f0p-2, 0x1.c1528065b7d50p-1},
	{0x1.56e1fc2f8f359p-997, 0x1.56e1fc2f8f359p-997, 0x1.0000000000000p+0},
}
var crAsinCases = []struct{ y, asin float64 }{
	{0x1.dcc177ddd1df8p-3, 0x1.e12b97de0cb32p-3},
	{0x1.9db3acc29fe78p-4, 0x1.9e6892824ddf5p-4},
	{0x1.1ca51cba09594p-2, 0x1.2071c057cf303p-2},
	{0x1.45786e756210bp-1, 0x1.60b6d319ba481p-1},
	{0x1.75969114d1d96p-2, 0x1.7e6a5885e244dp-2},
	{0x1.7b10b82d7982ap-2, 0x1.844e018a8f349p-2},
	{0x1.ad1205ab90998p-3, 0x1.b045dfcf5294ap-3},
	{0x1.1162a259d53f6p-2, 0x1.14bde615158f9p-2},
	{0x1.df9130abbf3ebp-1, 0x1.368420186c4e8p+0},
	{0x1.4bcb4b4491dbdp-1, 0x1.68f60719a9c96p-1},
	{0x1.37e004e8a37bfp-1, 0x1.4f577e386be87p-1},
	{0x1.5e7df088bd640p-3, 0x1.6039cdbab235dp-3},
	{0x1.75501b8faafb7p-1, 0x1.a253bed548bfep-1},
	{0x1.4ea5f77656af4p-3, 0x1.5027dbae45aeap-3},
	{0x1.848ff7a28da66p-2, 0x1.8e8c7313c61a7p-2},
	{0x1.faa2cdfb399bep-1, 0x1.6d08e75205ce9p+0},
	{0x1.47ae0c6c0ad87p-1, 0x1.63953c57505fbp-1},
	{0x1.1d28844e0e2ccp-1, 0x1.2e715dd05d001p-1},
	{0x1.5e85c254c10c5p-1, 0x1.82160884738fap-1},
	{0x1.af8a49712c0cbp-1, 0x1.00a7d5e4fa466p+0},
	{0x1.8d4fdc43947ccp-1, 0x1.c6cf1c0141b8dp-1},
	{0x1.d51727d261a78p-3, 0x1.d94ac52b56c88p-3},
	{0x1.06f717385ded0p-5, 0x1.0702a84401bc3p-5},
	{0x1.43061fb3595e2p-2, 0x1.48a2eee8ec850p-2},
	{0x1.122aaa0878de4p-2, 0x1.158d7c4ee2e05p-2},
	{0x1.b017c5e9c349cp-3, 0x1.b35d50a2d0d17p-3},
	{0x1.e2c50fe44cad8p-1, 0x1.3b33f53942b9ep+0},
	{0x1.c0b341edf24ebp-1, 0x1.117a036c58db0p+0},
	{0x1.423aeb1b3758ap-2, 0x1.47ccd2b9d535cp-2},
	{0x1.4f95a81ff367ap-1, 0x1.6df5746fb2323p-1},
	{0x1.952087713d4c2p-2, 0x1.a08496d9c44aep-2},
	{0x1.d43f94e9247c2p-1, 0x1.2785f8d048c95p+0},
	{0x1.d5dd4292499dcp-2, 0x1.e824b6df58091p-2},
	{0x1.0f3cbf11df680p-2, 0x1.128378a107f18p-2},
	{0x1.f917d7beb7990p-3, 0x1.fe5be5bb40961p-3},
	{0x1.1f6ba4e27e9a9p-1, 0x1.312be71edda4cp-1},
	{0x1.0d0c22df9e260p-2, 0x1.103e458715476p-2},
	{0x1.2b4edadb6b75bp-1, 0x1.3fad61f5d0c77p-1},
	{0x1.cbaf70e5589a7p-1, 0x1.1d638e157076ep+0},
	{0x1.98fc722e55e64p-2, 0x1.a4b93a3d80bd3p-2},
	{0x1.fffffffe1db56p-1, 0x1.921e55e37272fp+0},
	{0x1.fffffff76e644p-1, 0x1.921cc7e41d3c8p+0},
	{0x1.fffffffb9f8a3p-1, 0x1.921d9db1b8faap+0},
	{0x1.ffffffff38169p-1, 0x1.921ed30ad692dp+0},
	{0x1.ffffffff9863dp-1, 0x1.921f1267774ebp+0},
	{0x1.0000000000000p+0, 0x1.921fb54442d18p+0},
	{0x0.0p+0, 0x0.0p+0},
	{-0x1.0000000000000p-1, -0x1.0c152382d7366p-1},
	{0x1.a1df899343bf1p-3, 0x1.a4d411a28168dp-3},
	{0x1.51244422a2489p-2, 0x1.578cea73b530bp-2},
	{0x1.c77336a38ee67p-2, 0x1.d7fc55f697977p-2},
}

func TestCorrectlyRoundedTrig(t *testing.T) {
	for _, c := range crSinCosCases {
		if got := crSin(c.x); got != c.sin {
			t.Fatalf("crSin(%x) = %x, want %x", c.x, got, c.sin)
		}
		if got := crCos(c.x); got != c.cos {
			t.Fatalf("crCos(%x) = %x, want %x", c.x, got, c.cos)
		}
	}
	for _, c := range crAsinCases {
		if got := crAsin(c.y); got != c.asin {
			t.Fatalf("crAsin(%x) = %x, want %x", c.y, got, c.asin)
		}
	}
}
